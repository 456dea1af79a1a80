"""COCO JSON (any ``*.json`` with ``images`` and ``annotations``): boxes (``bbox``), polygons
(``segmentation`` as polygons, one object per part), keypoints (``keypoints`` triples in the
order of the category's ``keypoints`` names), points (a one-keypoint object, as
``app.exports`` writes points) and masks (``segmentation`` as an RLE, uncompressed or
compressed, or as polygons, filled), each annotation's category by name."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from app.exports.shapes import Shape
from app.imports.base import Importer, LabelFile, Reading, number, problem
from app.imports.rle import coco_mask, string_counts

__all__ = ["COCO", "is_coco"]


def is_coco(file: LabelFile) -> bool:
    document = file.json
    return isinstance(document, dict) and "annotations" in document and "images" in document


def _claims(file: LabelFile) -> bool:
    return file.extension == ".json" and file.base != "dataset_meta.json" and is_coco(file)


def _list(file: LabelFile, document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise file.invalid(f"{key} is not a list of objects")
    return value


def _read(reading: Reading, mine: list[LabelFile], _everything: list[LabelFile]) -> None:
    for file in mine:
        _file(reading, file)


def _file(reading: Reading, file: LabelFile) -> None:
    entry = reading.entry(file, "coco")
    document = file.json
    categories = {c.get("id"): c for c in _list(file, document, "categories")}
    match: dict[Any, str] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for image in _list(file, document, "images"):
        written = str(image.get("file_name", ""))
        name = reading.images.find(written)
        if name is None:
            problem(entry, f"image {written!r} is not in the upload")
            continue
        size = reading.size(entry, name, (image.get("width"), image.get("height")))
        if size is not None:
            match[image.get("id")] = name
            sizes[name] = size
    found: dict[str, list[Shape]] = {name: [] for name in match.values()}
    for ann in _list(file, document, "annotations"):
        where = f"annotation {ann.get('id')}"
        if "image_id" not in ann or "category_id" not in ann:
            raise file.invalid(f"{where}: no image_id or category_id")
        name = match.get(ann["image_id"])
        if name is None:
            continue
        category = categories.get(ann["category_id"])
        label = reading.label(entry, category and category.get("name"), where)
        if label is None:
            continue
        shapes = _shapes(reading, file, ann, category or {}, label, sizes[name])
        if not shapes:
            problem(entry, f"{where}: no {reading.kind} in it")
        found[name].extend(shapes)
    entry["images"] = len(match)
    for name, shapes in found.items():
        reading.add(entry, name, shapes)


def _shapes(
    reading: Reading,
    file: LabelFile,
    ann: dict[str, Any],
    category: dict[str, Any],
    label: str,
    size: tuple[int, int],
) -> list[Shape]:
    where = f"annotation {ann.get('id')}"
    kind = reading.kind
    segmentation = ann.get("segmentation")
    if kind == "box" and isinstance(ann.get("bbox"), list) and len(ann["bbox"]) == 4:
        x, y, w, h = (number(file, v, f"{where} bbox") for v in ann["bbox"])
        return [Shape("box", label, [(x, y), (x + w, y + h)])]
    if kind == "polygon" and isinstance(segmentation, list):
        shapes = []
        for part in segmentation:
            flat = [number(file, v, f"{where} segmentation") for v in part]
            if len(flat) >= 6 and len(flat) % 2 == 0:
                shapes.append(
                    Shape("polygon", label, list(zip(flat[::2], flat[1::2], strict=True)))
                )
        return shapes
    if kind == "mask" and segmentation:
        return [Shape("mask", label, mask=_mask(file, segmentation, size, where))]
    keypoints = ann.get("keypoints")
    if kind in ("skeleton", "point") and isinstance(keypoints, list) and keypoints:
        values = [number(file, v, f"{where} keypoints") for v in keypoints]
        if len(values) % 3:
            raise file.invalid(f"{where}: keypoints are not x, y, v triples")
        triples = list(zip(values[::3], values[1::3], values[2::3], strict=True))
        if kind == "point":
            return [Shape("point", label, [(triples[0][0], triples[0][1])])]
        names = category.get("keypoints")
        return [
            Shape(
                "skeleton",
                label,
                [(x, y) for x, y, _ in triples],
                visibility=[int(v) for _, _, v in triples],
                names=[str(n) for n in names] if isinstance(names, list) else [],
            )
        ]
    return []


def _mask(file: LabelFile, segmentation: Any, size: tuple[int, int], where: str) -> np.ndarray:
    width, height = size
    if isinstance(segmentation, dict):
        counts = segmentation.get("counts")
        rle_size = segmentation.get("size")
        if rle_size != [height, width]:
            raise file.invalid(f"{where}: RLE size {rle_size} is not the image's {[height, width]}")
        try:
            runs = (
                string_counts(counts) if isinstance(counts, str) else [int(c) for c in counts or []]
            )
            return coco_mask(runs, height, width)
        except (TypeError, ValueError) as exc:
            raise file.invalid(f"{where}: not an RLE: {exc}") from None
    canvas = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for part in segmentation:
        flat = [number(file, v, f"{where} segmentation") for v in part]
        if len(flat) >= 6:
            draw.polygon(list(zip(flat[::2], flat[1::2], strict=False)), fill=1)
    return np.asarray(canvas, dtype=bool)


COCO = Importer(
    name="coco", claims=_claims, read=_read, kinds=("box", "polygon", "skeleton", "point", "mask")
)
