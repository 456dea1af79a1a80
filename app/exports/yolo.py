"""Ultralytics YOLO datasets; each annotation type writes its own label lines (``YoloCodec``).

The archive is a dataset Ultralytics loads as it is (``check_det_dataset("data.yaml")`` from
any working directory):

- ``images/<name>``: each image under its name (with ``images=true``; without, the same layout
  minus the images);
- ``labels/<stem>.txt``: its labels, where Ultralytics looks for them (the image path with its
  last ``/images/`` turned into ``/labels/`` and the extension into ``.txt``);
- ``data.yaml``: ``train``/``val`` ``images`` relative to the file itself (no ``path``, which
  Ultralytics would resolve against the current directory), ``nc``, ``names``; pose adds
  ``kpt_shape`` and ``flip_idx``;
- ``classes.txt`` (line ``i`` is class ``i``) and ``tessera/manifest.csv`` (which label file belongs
  to which task and image).

Coordinates are normalised to 0..1 by the image size, with 6 decimals, one object per line
(each type's line is written in its module, app/annotations/types/):

- bbox: ``class cx cy w h``
- polygon: ``class x1 y1 x2 y2 ...`` (Ultralytics segmentation format)
- keypoints: ``class cx cy w h px1 py1 v1 ...`` (Ultralytics pose format; the box is the extent
  of the labelled points; an unlabelled point is ``0 0 0``)

An image without consensus gets an empty label file (YOLO's "no objects").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from app.exports.archive import Manifest, ZipStream
from app.exports.base import ExportFormat, ExportItem, ImageReader, label_index, objects_of
from app.exports.naming import UniqueStems, name_stem

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = [
    "YoloCodec",
    "centre_box",
    "classes_txt",
    "fmt",
    "label_path",
    "yolo_chunks",
    "yolo_format",
]

LineWriter = Callable[["AnnotationSpec", dict[str, int], ExportItem, dict[str, Any]], str]


def _no_lines(_spec: AnnotationSpec) -> list[str]:
    return []


@dataclass(frozen=True)
class YoloCodec:
    """What one annotation type puts in a YOLO export."""

    line: LineWriter
    """One consensus object as a label line (without the newline)."""
    yaml_lines: Callable[[AnnotationSpec], list[str]] = field(default=_no_lines)
    """Extra ``data.yaml`` lines (pose: ``kpt_shape``)."""


def yolo_format(codec: YoloCodec) -> ExportFormat:
    """The ``yolo`` format of a type that writes its label lines with ``codec``."""
    return ExportFormat("application/zip", "_yolo.zip", partial(yolo_chunks, codec=codec))


def yolo_chunks(
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    images: ImageReader | None = None,
    *,
    codec: YoloCodec,
) -> Iterator[bytes]:
    """Yield the YOLO zip for ``items`` entry by entry (see the module docstring)."""
    archive = ZipStream()
    manifest = Manifest()
    try:
        yield archive.add("classes.txt", classes_txt(spec))
        yield archive.add("data.yaml", _data_yaml(spec, codec))
        labels = label_index(spec)
        stems = UniqueStems()
        for item in items:
            stems.stem(item.task_id, item.image_name)
            image = f"images/{item.image_name}"
            if images is not None:
                yield archive.add(image, images(item), compress=False)
            name = label_path(image)
            manifest.add(item, name)
            lines = [codec.line(spec, labels, item, obj) for obj in objects_of(item)]
            yield archive.add(name, "".join(line + "\n" for line in lines).encode())
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        manifest.close()


def label_path(image: str) -> str:
    """Where Ultralytics looks for the labels of ``image`` (a path under ``images/``): the
    last ``images/`` folder of the path becomes ``labels/``, the extension ``.txt``
    (``ultralytics.data.utils.img2label_paths``)."""
    head, _, tail = ("/" + image).rpartition("/images/")
    return (head + "/labels/" + name_stem(tail)).lstrip("/") + ".txt"


def classes_txt(spec: AnnotationSpec) -> bytes:
    """One label per line in class order (line breaks inside a label become spaces)."""
    return "".join(one_line(label) + "\n" for label in spec.labels).encode()


def one_line(text: str) -> str:
    """``text`` with its line breaks turned into spaces."""
    return " ".join(text.splitlines())


def _data_yaml(spec: AnnotationSpec, codec: YoloCodec) -> bytes:
    # Names are written as JSON strings: valid YAML double-quoted scalars, whatever they hold.
    lines = [
        "# Tessera consensus export: images/ and labels/ next to this file",
        "train: images",
        "val: images",
        f"nc: {len(spec.labels)}",
        "names:",
        *(f"  {i}: {_yaml_string(label)}" for i, label in enumerate(spec.labels)),
        *codec.yaml_lines(spec),
    ]
    return ("\n".join(lines) + "\n").encode()


def _yaml_string(text: str) -> str:
    # A JSON string is a YAML double-quoted scalar, except that YAML also breaks lines at
    # NEL, LS and PS: escape those three too.
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted.translate({0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def fmt(value: float) -> str:
    """A normalised coordinate: clamped to 0..1, 6 decimals."""
    return f"{min(max(value, 0.0), 1.0):.6f}"


def centre_box(
    x: float, y: float, w: float, h: float, width: float, height: float
) -> tuple[float, float, float, float]:
    """``[x, y, w, h]`` in pixels as YOLO's normalised ``cx cy w h``."""
    return (x + w / 2) / width, (y + h / 2) / height, w / width, h / height
