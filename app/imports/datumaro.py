"""Datumaro JSON (``annotations/<subset>.json`` with ``items`` and ``categories``), as
``app.exports.datumaro`` writes it and ``datum`` exports it: per item (by ``image.path``, else
its ``id`` as a stem) its ``bbox`` (``[x, y, w, h]``), ``polygon``, ``points`` (flat
``[x1, y1, ...]`` with ``visibility``; a keypoints label's names from ``categories.points``),
``mask`` (COCO RLE) and ``label`` annotations, each label by ``label_id``."""

from __future__ import annotations

from typing import Any

from app.exports.shapes import Shape
from app.imports.base import Importer, LabelFile, Reading, number, problem
from app.imports.rle import coco_mask, string_counts

__all__ = ["DATUMARO"]

_KINDS = {"bbox": "box", "polygon": "polygon", "mask": "mask", "label": "tag"}


def _claims(file: LabelFile) -> bool:
    if file.extension != ".json" or file.base == "dataset_meta.json":
        return False
    document = file.json
    return isinstance(document, dict) and "items" in document and "categories" in document


def _read(reading: Reading, mine: list[LabelFile], _everything: list[LabelFile]) -> None:
    for file in mine:
        _file(reading, file)


def _file(reading: Reading, file: LabelFile) -> None:
    entry = reading.entry(file, "datumaro")
    document = file.json
    categories = document.get("categories") or {}
    labels = [str(c.get("name")) for c in (categories.get("label") or {}).get("labels", [])]
    keypoints = {
        p.get("label_id"): [str(n) for n in p.get("labels", [])]
        for p in (categories.get("points") or {}).get("items", [])
    }
    items = document["items"]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise file.invalid("items is not a list of objects")
    matched = 0
    for item in items:
        image_info = item.get("image") or {}
        written = str(image_info.get("path") or "")
        image = reading.images.find(written) if written else None
        if image is None:
            image = reading.images.by_stem(str(item.get("id", "")))
        if image is None:
            problem(entry, f"item {item.get('id')!r} is not an image of the upload")
            continue
        declared = image_info.get("size")
        size = reading.size(entry, image, declared[::-1] if isinstance(declared, list) else None)
        if size is None:
            continue
        matched += 1
        shapes = []
        annotations = item.get("annotations") or []
        # Datumaro gives a COCO polygon its box too, in the same group: not another object.
        grouped = {
            a.get("group")
            for a in annotations
            if a.get("group") and _KINDS.get(str(a.get("type"))) == reading.kind
        }
        for ann in annotations:
            if ann.get("type") == "bbox" and reading.kind != "box" and ann.get("group") in grouped:
                continue
            shape = _shape(reading, file, entry, ann, labels, keypoints, image, size)
            if shape is not None:
                shapes.extend(shape)
        reading.add(entry, image, shapes)
    entry["images"] = matched


def _shape(
    reading: Reading,
    file: LabelFile,
    entry: dict[str, Any],
    ann: dict[str, Any],
    labels: list[str],
    keypoints: dict[Any, list[str]],
    image: str,
    size: tuple[int, int],
) -> list[Shape] | None:
    where = f"{image}: annotation {ann.get('id')}"
    kind = ann.get("type")
    if kind == "points":
        wanted = reading.kind in ("point", "skeleton")
    else:
        wanted = _KINDS.get(str(kind)) == reading.kind
    if not wanted:
        problem(entry, f"{where}: a {kind}, not a {reading.kind} label")
        return None
    label_id = ann.get("label_id")
    name = labels[label_id] if isinstance(label_id, int) and 0 <= label_id < len(labels) else None
    label = reading.label(entry, name, where)
    if label is None:
        return None
    if kind == "bbox":
        box = ann.get("bbox")
        if not isinstance(box, list) or len(box) != 4:
            raise file.invalid(f"{where}: bbox is not [x, y, w, h]")
        x, y, w, h = (number(file, v, where) for v in box)
        return [Shape("box", label, [(x, y), (x + w, y + h)])]
    flat = [number(file, v, where) for v in ann.get("points") or []]
    if len(flat) % 2:
        raise file.invalid(f"{where}: points are not x, y pairs")
    pairs = list(zip(flat[::2], flat[1::2], strict=True))
    if kind == "polygon":
        return [Shape("polygon", label, pairs)]
    if kind == "points":
        visibility = [int(v) for v in ann.get("visibility") or [2] * len(pairs)]
        if reading.kind == "point":
            return [Shape("point", label, [p]) for p, v in zip(pairs, visibility, strict=True) if v]
        names = keypoints.get(label_id, [])
        return [Shape("skeleton", label, pairs, visibility=visibility, names=names)]
    if kind == "mask":
        rle = ann.get("rle") or {}
        width, height = size
        if rle.get("size") != [height, width]:
            raise file.invalid(f"{where}: mask size {rle.get('size')} is not {[height, width]}")
        counts = rle.get("counts")
        try:
            runs = (
                string_counts(counts) if isinstance(counts, str) else [int(c) for c in counts or []]
            )
            return [Shape("mask", label, mask=coco_mask(runs, height, width))]
        except (TypeError, ValueError) as exc:
            raise file.invalid(f"{where}: not an RLE: {exc}") from None
    return [Shape("tag", label)]


DATUMARO = Importer(
    name="datumaro",
    claims=_claims,
    read=_read,
    kinds=("box", "polygon", "point", "skeleton", "mask", "tag"),
)
