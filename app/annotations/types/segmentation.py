"""segmentation: a semantic mask, ``{"mask_png_base64": "..."}``.

An 8-bit single-channel PNG of the image's size, pixel value ``k`` = label ``k-1``, 0 = none
(``app.annotations.masks`` reads and writes it). At most 255 labels, since a pixel is 8-bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from app.annotations.limits import MAX_SEGMENTATION_LABELS
from app.annotations.masks import decode_mask, encode_mask, validate_segmentation
from app.annotations.registry import AnnotationKind, SpecRules
from app.annotations.spec import AnnotationSpec
from app.exports.base import ExportItem
from app.exports.coco import CocoCodec, coco_format, rle_counts
from app.exports.cvat import cvat_format
from app.exports.datumaro import datumaro_format
from app.exports.masks import MASKS, VOC_MASKS
from app.exports.shapes import Shape, ShapeCodec
from app.quality.engine import geometry_engine
from consensus.geometry import KindOptions, semantic_kind

__all__ = ["KIND"]


def _coco(
    _spec: AnnotationSpec, _labels: dict[str, int], item: ExportItem
) -> Iterator[dict[str, Any]]:
    """COCO-Stuff style: one annotation per label present in the mask, ``segmentation`` an
    uncompressed RLE ``{"size": [h, w], "counts": [...]}`` (column-major, zeros first),
    ``iscrowd`` 0, ``area`` the pixel count."""
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


def _example(label: int, x0: int) -> dict[str, str]:
    mask = np.zeros((80, 100), dtype=np.uint8)
    mask[10:40, x0 : x0 + 30] = label
    return encode_mask(mask)


def _shapes(spec: AnnotationSpec, item: ExportItem) -> list[Shape]:
    """One mask per label present (pixel ``k`` is label ``k-1``)."""
    mask = decode_mask(item.answer, item.width, item.height)
    counts = np.bincount(mask.ravel(), minlength=1)
    return [
        Shape("mask", spec.labels[value - 1], mask=mask == value, confidence=item.confidence)
        for value in (np.flatnonzero(counts[1:]) + 1).tolist()
    ]


def _answer(spec: AnnotationSpec, shapes: list[Shape], size: tuple[int, int]) -> dict[str, Any]:
    """One label map of the masks (pixel ``k`` is label ``k-1``; a later mask wins)."""
    width, height = size
    mask = np.zeros((height, width), dtype=np.uint8)
    for shape in shapes:
        if shape.kind == "mask" and shape.mask is not None:
            if shape.mask.shape != (height, width):
                raise ValueError(f"a mask of {shape.mask.shape[::-1]} for an image of {size}")
            mask[shape.mask] = spec.labels.index(shape.label) + 1
    return encode_mask(mask)


SHAPES = ShapeCodec(shapes=_shapes, kinds=("mask",), answer=_answer)

KIND = AnnotationKind(
    name="segmentation",
    summary="Paint every pixel with its label (a semantic mask).",
    spec=SpecRules(max_labels=MAX_SEGMENTATION_LABELS),
    validate=validate_segmentation,
    engine=geometry_engine(lambda spec, width, height: semantic_kind(KindOptions())),
    worker_model="geometry",
    formats={
        "coco": coco_format(CocoCodec(annotations=_coco, task="stuff")),
        "masks": MASKS,
        "voc": VOC_MASKS,
        "cvat": cvat_format(SHAPES),
        "datumaro": datumaro_format(SHAPES),
    },
    shapes=SHAPES,
    tool="segmentation",
    example_spec={"type": "segmentation", "labels": ["road", "car"]},
    example_answers=(_example(1, 10), _example(1, 11), _example(2, 60)),
)
