"""COCO object-detection JSON; each annotation type writes its own annotations (``CocoCodec``).

- ``categories``: one per label, ids 1-based in label order; a type may add fields to each
  (keypoints: ``keypoints``, the names, and ``skeleton``, edges 1-based as COCO expects).
- ``images``: ids 1-based in item order, ``file_name`` is the image name as uploaded, plus
  ``tessera_task_id``, ``tessera_confidence`` (null without consensus),
  ``tessera_answer_count``, ``tessera_labeled_by`` (``crowd``, ``model``; null while open) and
  ``tessera_prediction`` (null unless the task's pre-annotation was a model's prediction: its
  ``model_id``, ``model_score``, ``measure`` and the ``answers`` that started from it, each
  with ``assignment_id``, ``worker_id``, ``agreement`` and ``unchanged``).
- ``annotations``: ids 1-based; ``bbox`` is ``[x, y, w, h]``; ``tessera_confidence`` is the
  object's consensus confidence (the image's when there is no per-object value). Use it as
  ``score`` for results files. What each type writes (in its module, app/annotations/types/):
  - bbox: ``segmentation`` is ``[]``, ``area`` is ``w * h``.
  - polygon: ``segmentation`` is ``[[x1, y1, x2, y2, ...]]``, ``area`` the polygon's
    (shoelace), ``bbox`` its extent.
  - keypoints: ``keypoints`` ``[x, y, v, ...]``, ``num_keypoints`` (v > 0), ``bbox`` the extent
    of the labelled points and ``area`` its ``w * h`` (the OKS scale), ``segmentation`` ``[]``.
  - segmentation (semantic masks): COCO-Stuff style, one annotation per label present in the
    mask, ``segmentation`` an uncompressed RLE ``{"size": [h, w], "counts": [...]}``
    (column-major, zeros first), ``iscrowd`` 0, ``area`` the pixel count.

The output is a stream: ``images`` go out as items are read, annotations are spooled to a
temporary file (memory up to 8 MiB, then disk) and follow.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from app.exports.archive import Manifest, Spool, ZipStream, with_images
from app.exports.base import ExportFormat, ExportItem, ImageReader, label_index

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = [
    "CocoCodec",
    "coco_chunks",
    "coco_document",
    "coco_format",
    "extent",
    "polygon_area",
    "rle_counts",
]

_SPOOL_BYTES = 8 * 1024 * 1024
_COPY_CHUNK = 64 * 1024

AnnotationWriter = Callable[
    ["AnnotationSpec", dict[str, int], ExportItem], Iterator[dict[str, Any]]
]


def _no_fields(_spec: AnnotationSpec) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class CocoCodec:
    """What one annotation type puts in a COCO file."""

    annotations: AnnotationWriter
    """The COCO annotations of one item with a consensus, without ``id`` and ``image_id``."""
    category_fields: Callable[[AnnotationSpec], dict[str, Any]] = field(default=_no_fields)
    """Extra fields of every category (keypoint names, skeleton, sigmas)."""
    task: str = "instances"
    """The annotation file's name with images: ``annotations/<task>_default.json``
    (``instances``, ``person_keypoints``, ``stuff``)."""


COCO_DOCUMENT_SCHEMA: dict[str, Any] = {
    "title": "CocoDocument",
    "description": "format=coco: a COCO annotation file (https://cocodataset.org/#format-data).",
    "type": "object",
    "required": ["info", "licenses", "categories", "images", "annotations"],
    "properties": {
        "categories": {"type": "array", "items": {"type": "object"}},
        "images": {"type": "array", "items": {"type": "object"}},
        "annotations": {"type": "array", "items": {"type": "object"}},
    },
}


def coco_format(codec: CocoCodec) -> ExportFormat:
    """The ``coco`` format of a type that writes its annotations with ``codec``."""
    return ExportFormat(
        "application/json",
        "_coco.json",
        partial(coco_chunks, codec=codec),
        zip_suffix="_coco.zip",
        json_schema=COCO_DOCUMENT_SCHEMA,
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def coco_chunks(
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    images: ImageReader | None = None,
    *,
    codec: CocoCodec,
) -> Iterator[bytes]:
    """The COCO JSON document, or with ``images`` a zip of ``images/<name>`` and
    ``annotations/<task>_default.json`` (the layout of CVAT's and Datumaro's COCO)."""
    if images is None:
        yield from coco_document(spec, items, codec=codec)
        return
    archive, manifest, spool = ZipStream(), Manifest(), Spool()
    try:
        pending: list[bytes] = []
        for chunk in coco_document(
            spec, with_images(items, archive, images, "images", pending, manifest), codec=codec
        ):
            spool.write(chunk)
            yield b"".join(pending)
            pending.clear()
        yield from spool.write_to(archive, f"annotations/{codec.task}_default.json")
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        spool.close()
        manifest.close()


def coco_document(
    spec: AnnotationSpec, items: Iterable[ExportItem], *, codec: CocoCodec
) -> Iterator[bytes]:
    """Yield the COCO JSON document for ``items`` in pieces (see the module docstring)."""
    yield b'{"info":' + _dumps({"description": "Tessera consensus export", "version": "1.0"})
    yield b',"licenses":[],"categories":' + _dumps(_categories(spec, codec)) + b',"images":['
    labels = label_index(spec)
    annotation_id = 0
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        for image_id, item in enumerate(items, start=1):
            image = {
                "id": image_id,
                "file_name": item.image_name,
                "width": item.width,
                "height": item.height,
                "tessera_task_id": item.task_id,
                "tessera_confidence": item.confidence,
                "tessera_answer_count": item.answer_count,
                "tessera_labeled_by": item.labeled_by,
                "tessera_prediction": item.prediction.to_json() if item.prediction else None,
            }
            yield (b"," if image_id > 1 else b"") + _dumps(image)
            if item.answer is None:
                continue
            for annotation in codec.annotations(spec, labels, item):
                annotation_id += 1
                record = {"id": annotation_id, "image_id": image_id, **annotation}
                spool.write((b"," if annotation_id > 1 else b"") + _dumps(record))
        yield b'],"annotations":['
        spool.seek(0)
        while block := spool.read(_COPY_CHUNK):
            yield block
    yield b"]}"


def _categories(spec: AnnotationSpec, codec: CocoCodec) -> list[dict[str, Any]]:
    extra = codec.category_fields(spec)
    return [
        {"id": index + 1, "name": label, "supercategory": "", **extra}
        for index, label in enumerate(spec.labels)
    ]


def rle_counts(binary: np.ndarray) -> list[int]:
    """COCO uncompressed RLE counts of a 2-D boolean mask: column-major runs, zeros first."""
    flat = np.asarray(binary, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return []
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], edges, [flat.size]))).tolist()
    return [0, *runs] if flat[0] else runs


def polygon_area(points: list[tuple[float, float]]) -> float:
    """Area of a simple polygon (shoelace formula)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


def extent(points: list[tuple[float, float]]) -> list[float]:
    """``[x, y, w, h]`` of the smallest axis-aligned box holding ``points`` (zeros if none)."""
    if not points:
        return [0.0, 0.0, 0.0, 0.0]
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
