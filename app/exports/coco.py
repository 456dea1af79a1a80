"""COCO object-detection JSON for bbox, polygon, keypoints and segmentation projects.

- ``categories``: one per label, ids 1-based in label order; keypoints projects add
  ``keypoints`` (the names) and ``skeleton`` (edges, 1-based as COCO expects) to each.
- ``images``: ids 1-based in item order, ``file_name`` is the image name as uploaded, plus
  ``tessera_task_id``, ``tessera_confidence`` (null without consensus) and
  ``tessera_answer_count``.
- ``annotations``: ids 1-based; ``bbox`` is ``[x, y, w, h]``; ``tessera_confidence`` is the
  object's consensus confidence (the image's when there is no per-object value). Use it as
  ``score`` for results files.
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
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from app.annotations import AnnotationSpec, AnnotationType, decode_mask
from app.exports.base import ExportItem, class_of, label_index, object_confidence, objects_of

__all__ = ["coco_chunks", "rle_counts"]

_SPOOL_BYTES = 8 * 1024 * 1024
_COPY_CHUNK = 64 * 1024


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def coco_chunks(spec: AnnotationSpec, items: Iterable[ExportItem]) -> Iterator[bytes]:
    """Yield the COCO JSON document for ``items`` in pieces (see the module docstring)."""
    yield b'{"info":' + _dumps({"description": "Tessera consensus export", "version": "1.0"})
    yield b',"licenses":[],"categories":' + _dumps(_categories(spec)) + b',"images":['
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
            }
            yield (b"," if image_id > 1 else b"") + _dumps(image)
            for annotation in _annotations(spec, labels, item):
                annotation_id += 1
                record = {"id": annotation_id, "image_id": image_id, **annotation}
                spool.write((b"," if annotation_id > 1 else b"") + _dumps(record))
        yield b'],"annotations":['
        spool.seek(0)
        while block := spool.read(_COPY_CHUNK):
            yield block
    yield b"]}"


def _categories(spec: AnnotationSpec) -> list[dict[str, Any]]:
    categories: list[dict[str, Any]] = []
    for index, label in enumerate(spec.labels):
        category: dict[str, Any] = {"id": index + 1, "name": label, "supercategory": ""}
        if spec.type == AnnotationType.KEYPOINTS:
            category["keypoints"] = list(spec.keypoints or [])
            category["skeleton"] = [[i + 1, j + 1] for i, j in spec.skeleton or []]
        categories.append(category)
    return categories


def _annotations(
    spec: AnnotationSpec, labels: dict[str, int], item: ExportItem
) -> Iterator[dict[str, Any]]:
    if item.answer is None:
        return
    if spec.type == AnnotationType.SEGMENTATION:
        yield from _mask_annotations(item)
        return
    for index, obj in enumerate(objects_of(item)):
        annotation: dict[str, Any] = {
            "category_id": class_of(labels, obj["label"], item.task_id) + 1,
            "iscrowd": 0,
        }
        if spec.type == AnnotationType.BBOX:
            x, y, w, h = (float(v) for v in obj["box"])
            annotation.update(bbox=[x, y, w, h], area=w * h, segmentation=[])
        elif spec.type == AnnotationType.POLYGON:
            points = [(float(x), float(y)) for x, y in obj["points"]]
            annotation.update(
                segmentation=[[c for point in points for c in point]],
                area=polygon_area(points),
                bbox=extent(points),
            )
        else:  # keypoints
            triples = [(float(x), float(y), int(v)) for x, y, v in obj["points"]]
            labelled = [(x, y) for x, y, v in triples if v > 0]
            box = extent(labelled)
            annotation.update(
                keypoints=[c for triple in triples for c in triple],
                num_keypoints=len(labelled),
                bbox=box,
                area=box[2] * box[3],
                segmentation=[],
            )
        annotation["tessera_confidence"] = object_confidence(item, index)
        yield annotation


def _mask_annotations(item: ExportItem) -> Iterator[dict[str, Any]]:
    mask = decode_mask(item.answer, item.width, item.height)
    counts = np.bincount(mask.ravel(), minlength=1)
    for value in (np.flatnonzero(counts[1:]) + 1).tolist():
        binary = mask == value
        ys, xs = np.nonzero(binary)
        x0, y0 = int(xs.min()), int(ys.min())
        yield {
            "category_id": int(value),  # pixel k = label k-1 = category id k
            "iscrowd": 0,
            "segmentation": {"size": [item.height, item.width], "counts": rle_counts(binary)},
            "area": int(counts[value]),
            "bbox": [x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1],
            "tessera_confidence": item.confidence,
        }


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
