"""Datumaro (``dm_format_version`` 1.0): ``annotations/default.json`` and, with images,
``images/default/<name>``: the layout Datumaro writes and ``datum import -f datumaro`` reads.

``categories.label.labels`` are the project's labels (ids 0-based in label order); keypoints
projects add ``categories.points`` (each label's keypoint names and its skeleton, 1-based
joints). One item per task: ``id`` the image's stem, ``image.path`` its name, ``image.size``
``[height, width]``, ``attr.tessera_task_id`` (and, once set, ``attr.tessera_labeled_by``, and
the flat prediction facts ``attr.tessera_prediction_model`` etc.: ``base.PREDICTION_COLUMNS``),
and its annotations: ``bbox`` ``[x, y, w, h]``,
``polygon`` and ``points`` (flat ``[x1, y1, ...]``; points carry ``visibility``, Datumaro's
0 absent / 1 hidden / 2 visible, as COCO's), ``mask`` (COCO compressed RLE, ``size`` ``[h,
w]``) and ``label``; each with ``attributes.tessera_confidence``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from app.exports.archive import Manifest, Spool, ZipStream
from app.exports.base import ExportFormat, ExportItem, ImageReader, class_of, label_index
from app.exports.naming import UniqueStems
from app.exports.shapes import Shape, ShapeCodec, rle_string

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["datumaro_chunks", "datumaro_format"]


def datumaro_format(codec: ShapeCodec) -> ExportFormat:
    """The ``datumaro`` format of a type whose answers read as ``codec``'s shapes."""
    return ExportFormat("application/zip", "_datumaro.zip", partial(datumaro_chunks, codec=codec))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _categories(spec: AnnotationSpec) -> dict[str, Any]:
    categories: dict[str, Any] = {
        "label": {
            "labels": [{"name": label, "parent": "", "attributes": []} for label in spec.labels],
            "attributes": [],
        }
    }
    if spec.keypoints:
        joints = [[i + 1, j + 1] for i, j in spec.skeleton or []]
        categories["points"] = {
            "items": [
                {"label_id": index, "labels": list(spec.keypoints), "joints": joints}
                for index in range(len(spec.labels))
            ]
        }
    return categories


def datumaro_chunks(
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    images: ImageReader | None = None,
    *,
    codec: ShapeCodec,
) -> Iterator[bytes]:
    """Yield the Datumaro zip: images as they come, the JSON (spooled) at the end."""
    archive, manifest, document = ZipStream(), Manifest(), Spool()
    try:
        document.write(b'{"dm_format_version":"1.0","infos":{},"media_type":2,"categories":')
        document.write(_dumps(_categories(spec)) + b',"items":[')
        labels = label_index(spec)
        stems = UniqueStems()
        for index, item in enumerate(items):
            stem = stems.stem(item.task_id, item.image_name)
            if images is not None:
                name = f"images/default/{item.image_name}"
                yield archive.add(name, images(item), compress=False)
            manifest.add(item, "annotations/default.json")
            shapes = codec.shapes(spec, item) if item.answer is not None else []
            record = {
                "id": stem,
                "annotations": [
                    _annotation(number, shape, labels, item) for number, shape in enumerate(shapes)
                ],
                "attr": _attributes(item),
                "image": {"path": item.image_name, "size": [item.height, item.width]},
            }
            document.write((b"," if index else b"") + _dumps(record))
        document.write(b"]}")
        yield from document.write_to(archive, "annotations/default.json")
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        document.close()
        manifest.close()


def _attributes(item: ExportItem) -> dict[str, Any]:
    """The item's ``attr``: scalars only (what Datumaro's own attributes hold), a fact left out
    while it has no value."""
    attr: dict[str, Any] = {"tessera_task_id": item.task_id}
    if item.labeled_by is not None:
        attr["tessera_labeled_by"] = item.labeled_by
    p = item.prediction
    if p is not None:
        attr["tessera_prediction_model"] = p.model_id
        attr["tessera_prediction_score"] = float(p.model_score)
        attr["tessera_answers_from_prediction"] = len(p.answers)
        attr["tessera_prediction_unchanged"] = p.unchanged
        if p.kept is not None:
            attr["tessera_prediction_kept"] = p.kept
    return attr


def _annotation(
    number: int, shape: Shape, labels: dict[str, int], item: ExportItem
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": number,
        "attributes": {}
        if shape.confidence is None
        else {"tessera_confidence": float(shape.confidence)},
        "group": 0,
        "label_id": class_of(labels, shape.label, item.task_id),
        "z_order": 0,
    }
    flat = [float(c) for point in shape.points for c in point]
    if shape.kind == "box":
        x0, y0, x1, y1 = flat
        record.update(type="bbox", bbox=[x0, y0, x1 - x0, y1 - y0])
    elif shape.kind == "polygon":
        record.update(type="polygon", points=flat)
    elif shape.kind in ("point", "skeleton"):
        visibility = shape.visibility or [2] * len(shape.points)
        record.update(type="points", points=flat, visibility=visibility)
    elif shape.kind == "mask":
        assert shape.mask is not None
        height, width = shape.mask.shape
        record.update(type="mask", rle={"counts": rle_string(shape.mask), "size": [height, width]})
    else:
        record.update(type="label")
        del record["z_order"]
    return record
