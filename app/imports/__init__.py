"""Labels in: the files of an upload in a dataset format become answers, each file reported.

    read_labels(spec, files, sizes, aliases, format=None) -> Imported

Formats (one module each, beside the knowledge of its exporter in ``app.exports``): ``coco``,
``yolo``, ``voc``, ``cvat``, ``datumaro``, ``labelstudio``, ``masks``, ``csv`` and ``folders``
(class folders, read from the images' names by ``app.imports.folders``). Each file is given
to the first format that claims it (``Importer.claims``: by its name and, for JSON and XML,
its content), or with ``format`` only to that one. A format's shapes become the project
type's answer (``ShapeCodec.answer``, in the type's module), validated like any answer
(``app.annotations.validate_answer``) against the image's size.

The report has one entry per label file: ``file``, ``format``, ``image`` or ``images`` it
matched, ``objects`` read, and ``problems`` (the first 50; ``problem_count`` all of them):
images the file names that the upload lacks, labels that are not the project's, shapes of a
kind the project's type does not take, answers that fail validation, files of no known format.
None of these refuses the upload. A file that cannot be read at all (broken JSON, XML, a
number that is not one) raises ``LabelFileInvalid``: the upload is refused, nothing stored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from app.annotations import AnswerInvalid, annotation_kind, validate_answer
from app.exports.shapes import Shape
from app.images.archive import is_label_name
from app.imports.base import Images, Importer, LabelFile, Reading, problem
from app.imports.coco import COCO
from app.imports.cvat import CVAT
from app.imports.datumaro import DATUMARO
from app.imports.errors import LabelFileInvalid
from app.imports.labelstudio import LABELSTUDIO
from app.imports.masks import MASKS
from app.imports.tabular import CSV
from app.imports.voc import VOC
from app.imports.yolo import YOLO

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = [
    "LABEL_FORMATS",
    "Imported",
    "LabelFileInvalid",
    "LabelsFormat",
    "is_label_file",
    "is_mask_file",
    "read_labels",
]

IMPORTERS: dict[str, Importer] = {
    importer.name: importer
    for importer in (COCO, DATUMARO, LABELSTUDIO, CVAT, VOC, YOLO, MASKS, CSV)
}

LabelsFormat = Literal[
    "coco", "datumaro", "labelstudio", "cvat", "voc", "yolo", "masks", "csv", "folders"
]
"""The ``labels_format`` values: every format labels are read from."""
LABEL_FORMATS: tuple[str, ...] = get_args(LabelsFormat)

_IGNORED = ("tessera/manifest.csv",)
_UNKNOWN = 1 << 30


def is_label_file(name: str) -> bool:
    """Whether an upload's non-image file may hold labels, by its name (``is_label_name``)."""
    return is_label_name(name)


def is_mask_file(name: str) -> bool:
    """Whether an image of an upload is a label mask (``masks/…``, ``SegmentationClass/…``),
    read as labels in a segmentation project whose upload has other images too."""
    lower = name.lower()
    return lower.endswith(".png") and (
        lower.startswith("masks/")
        or "segmentationclass/" in lower
        or "segmentationobject/" in lower
    )


@dataclass
class Imported:
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each image with labels: its answer, validated (an image the files give no object has
    none: nothing to start from)."""
    labelled: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each image a file labels, with no object too (gold: "nothing here" is an answer)."""
    report: list[dict[str, Any]] = field(default_factory=list)


def read_labels(
    spec: AnnotationSpec,
    files: list[tuple[str, bytes]],
    sizes: dict[str, tuple[int, int] | None],
    aliases: dict[str, str] | None = None,
    *,
    format: str | None = None,
) -> Imported:
    """The answers that ``files`` give the images of ``sizes`` (name → width, height, or None
    for an image not downloaded yet: a URL's labels are read at the size the file states, and
    checked again once it is downloaded); see the module docstring. ``aliases``: name as
    uploaded → name in the batch."""
    codec = annotation_kind(spec.type).shapes
    labels = [LabelFile(name, data) for name, data in files]
    result = Imported()
    if codec is None or codec.answer is None:
        reason = f"labels are not imported for {spec.type} projects"
        result.report = [{"file": f.name, "problems": [reason]} for f in labels]
        return result
    reading = Reading(spec, codec.kinds[0], Images(sizes, aliases or {}))
    chosen = [IMPORTERS[format]] if format in IMPORTERS else list(IMPORTERS.values())
    claimed: dict[str, list[LabelFile]] = {}
    unclaimed: list[LabelFile] = []
    for file in labels:
        importer = next((i for i in chosen if i.claims(file)), None)
        if importer is None:
            unclaimed.append(file)
        else:
            claimed.setdefault(importer.name, []).append(file)
    for name, mine in claimed.items():
        importer = IMPORTERS[name]
        if reading.kind not in importer.kinds:
            for file in mine:
                entry = reading.entry(file, name)
                problem(entry, f"not read: {name} files hold no {spec.type} labels here")
            continue
        importer.read(reading, mine, labels)
    present = [IMPORTERS[name] for name in claimed]
    for file in unclaimed:
        if file.name in _IGNORED or any(i.side_files(file) for i in present):
            continue
        why = f"labels_format is {format}" if format else "not a label file of a known format"
        result.report.append({"file": file.name, "problems": [f"not read: {why}"]})
    reading.report.extend(result.report)
    result.report = reading.report
    _answers(spec, reading, codec.answer, result)
    for name in _without_consensus(labels, reading.images):
        result.labelled.pop(name, None)
        result.answers.pop(name, None)
    return result


def _without_consensus(files: list[LabelFile], images: Images) -> set[str]:
    """The images a Tessera export's ``tessera/manifest.csv`` marks as having no consensus
    yet (their empty label files say nothing about them)."""
    for file in files:
        if file.name == "tessera/manifest.csv":
            rows = csv.DictReader(io.StringIO(file.text))
            return {
                name
                for row in rows
                if row.get("has_consensus") == "0"
                and (name := images.find(row.get("image_name") or "")) is not None
            }
    return set()


def _answers(
    spec: AnnotationSpec,
    reading: Reading,
    answer_of: Callable[[AnnotationSpec, list[Shape], tuple[int, int]], dict[str, Any]],
    result: Imported,
) -> None:
    entries = {entry["file"]: entry for entry in reading.report}
    for image, shapes in reading.shapes.items():
        size = reading.images.sizes.get(image) or reading.declared.get(image)
        # Without a size (a URL's tags or CSV points) the download checks the coordinates.
        width, height = size or (_UNKNOWN, _UNKNOWN)
        entry = entries[reading.source[image]]
        answered = bool(shapes) or image in reading.explicit
        try:
            answer = validate_answer(
                spec, answer_of(spec, shapes, (width, height)), width=width, height=height
            )
        except (AnswerInvalid, ValueError) as exc:
            if answered:  # no label at all is no answer, not a wrong one
                detail = exc.detail if isinstance(exc, AnswerInvalid) else str(exc)
                problem(entry, f"{image}: {detail}")
            continue
        result.labelled[image] = answer
        if answered:
            result.answers[image] = answer
