"""Label Studio JSON: the task list Label Studio imports with its annotations (its "JSON"
export format); with images, a zip of ``tasks.json`` and ``images/<name>``.

One task per image: ``data.image`` is ``images/<name>`` (serve that folder as Label Studio local
storage, or rewrite the prefix to your bucket), ``data.tessera_task_id`` and
``data.image_name``; one annotation whose ``result`` holds a region per shape, with
``original_width``/``original_height`` and coordinates in percent of the image, as Label Studio
stores them: ``rectanglelabels`` (``x, y, width, height``), ``polygonlabels`` (``points``),
``keypointlabels`` (``x, y``; a skeleton is one keypoint region per labelled point, the
keypoint's name as its label, the object's label and number in ``meta``) and ``choices``
(``from_name`` ``choice``; every label of a multilabel answer in one region). Regions carry
``score``, the consensus confidence. An image without consensus has no annotation.
``data.tessera_labeled_by`` says who completed the task (``crowd``, ``model``; null while open)
and, when its pre-annotation was a model's prediction, ``meta.tessera_prediction`` what the
answers did with it (``base.PredictionFacts.to_json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from app.exports.archive import Spool, ZipStream, with_images
from app.exports.base import ExportFormat, ExportItem, ImageReader
from app.exports.shapes import Shape, ShapeCodec

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["labelstudio_chunks", "labelstudio_format", "labelstudio_regions"]


LABELSTUDIO_DOCUMENT_SCHEMA: dict[str, Any] = {
    "title": "LabelStudioTasks",
    "description": "format=labelstudio: Label Studio's task list (JSON import format).",
    "type": "array",
    "items": {"type": "object", "required": ["data", "annotations"]},
}


def labelstudio_format(codec: ShapeCodec) -> ExportFormat:
    """The ``labelstudio`` format of a type whose answers read as ``codec``'s shapes."""
    return ExportFormat(
        "application/json",
        "_labelstudio.json",
        partial(labelstudio_chunks, codec=codec),
        zip_suffix="_labelstudio.zip",
        json_schema=LABELSTUDIO_DOCUMENT_SCHEMA,
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def labelstudio_chunks(
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    images: ImageReader | None = None,
    *,
    codec: ShapeCodec,
) -> Iterator[bytes]:
    """The task list, or with ``images`` a zip of ``images/`` and ``tasks.json``."""
    if images is None:
        yield from _document(spec, items, codec)
        return
    archive, spool = ZipStream(), Spool()
    try:
        pending: list[bytes] = []
        for chunk in _document(spec, with_images(items, archive, images, "images", pending), codec):
            spool.write(chunk)
            yield b"".join(pending)
            pending.clear()
        yield b"".join(pending)
        yield from spool.write_to(archive, "tasks.json")
        yield archive.close()
    finally:
        spool.close()


def _document(
    spec: AnnotationSpec, items: Iterable[ExportItem], codec: ShapeCodec
) -> Iterator[bytes]:
    yield b"["
    for index, item in enumerate(items):
        task: dict[str, Any] = {
            "id": index + 1,
            "data": {
                "image": f"images/{item.image_name}",
                "image_name": item.image_name,
                "tessera_task_id": item.task_id,
                "tessera_labeled_by": item.labeled_by,
            },
            "annotations": [],
        }
        if item.prediction is not None:
            task["meta"] = {"tessera_prediction": item.prediction.to_json()}
        if item.answer is not None:
            regions = labelstudio_regions(item, codec.shapes(spec, item))
            task["annotations"] = [{"id": index + 1, "result": regions}]
        yield (b"," if index else b"") + _dumps(task)
    yield b"]"


def labelstudio_regions(item: ExportItem, shapes: list[Shape]) -> list[dict[str, Any]]:
    """The Label Studio result regions of one item's shapes."""
    width, height = float(item.width), float(item.height)

    def pct(point: tuple[float, float]) -> tuple[float, float]:
        return 100.0 * point[0] / width, 100.0 * point[1] / height

    regions: list[dict[str, Any]] = []
    tags = [shape for shape in shapes if shape.kind == "tag"]
    common = {"to_name": "image", "original_width": item.width, "original_height": item.height}
    for number, shape in enumerate(shape for shape in shapes if shape.kind != "tag"):
        region: dict[str, Any] = {"id": f"r{number}", "from_name": "label", **common}
        if shape.confidence is not None:
            region["score"] = float(shape.confidence)
        if shape.kind == "box":
            (x0, y0), (x1, y1) = pct(shape.points[0]), pct(shape.points[1])
            region.update(
                type="rectanglelabels",
                image_rotation=0,
                value={
                    "x": x0,
                    "y": y0,
                    "width": x1 - x0,
                    "height": y1 - y0,
                    "rotation": 0,
                    "rectanglelabels": [shape.label],
                },
            )
            regions.append(region)
        elif shape.kind == "polygon":
            points = [list(pct(point)) for point in shape.points]
            region.update(
                type="polygonlabels", value={"points": points, "polygonlabels": [shape.label]}
            )
            regions.append(region)
        elif shape.kind == "point":
            x, y = pct(shape.points[0])
            region.update(
                type="keypointlabels",
                value={"x": x, "y": y, "width": 0.5, "keypointlabels": [shape.label]},
            )
            regions.append(region)
        elif shape.kind == "skeleton":
            visibility = shape.visibility or []
            for point_number, (name, point, v) in enumerate(
                zip(shape.names, shape.points, visibility, strict=True)
            ):
                if v == 0:
                    continue
                x, y = pct(point)
                regions.append(
                    {
                        **region,
                        "id": f"r{number}-{point_number}",
                        "type": "keypointlabels",
                        "value": {"x": x, "y": y, "width": 0.5, "keypointlabels": [name]},
                        "meta": {"object": number, "label": shape.label, "visibility": v},
                    }
                )
        else:
            raise ValueError(f"task {item.task_id}: Label Studio export has no {shape.kind}")
    if tags:
        region = {"id": "choice", "from_name": "choice", "type": "choices", **common}
        if tags[0].confidence is not None:
            region["score"] = float(tags[0].confidence)
        region["value"] = {"choices": [tag.label for tag in tags]}
        regions.append(region)
    return regions
