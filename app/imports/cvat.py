"""CVAT for images 1.1 (``annotations.xml``, root ``annotations``), as ``app.exports.cvat``
writes it and CVAT exports it: per ``image`` (by ``name``) its ``box`` (``xtl ytl xbr ybr``),
``polygon`` and ``points`` (``x,y;x,y``; each point of a ``points`` one point object),
``skeleton`` (one ``points`` per keypoint, by the keypoint's name; ``outside`` is not labelled,
``occluded`` is v=1), ``mask`` (CVAT's RLE within ``left top width height``) and ``tag``."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from app.exports.shapes import Shape, ShapeKind
from app.imports.base import Importer, LabelFile, Reading, number, problem
from app.imports.rle import cvat_mask

__all__ = ["CVAT"]

_KINDS: dict[str, ShapeKind] = {
    "box": "box",
    "polygon": "polygon",
    "points": "point",
    "skeleton": "skeleton",
    "mask": "mask",
    "tag": "tag",
}


def _claims(file: LabelFile) -> bool:
    return file.extension == ".xml" and file.xml.tag == "annotations"


def _read(reading: Reading, mine: list[LabelFile], _everything: list[LabelFile]) -> None:
    for file in mine:
        entry = reading.entry(file, "cvat")
        matched = 0
        for node in file.xml.iter("image"):
            written = node.get("name", "")
            image = reading.images.find(written)
            if image is None:
                problem(entry, f"image {written!r} is not in the upload")
                continue
            size = reading.size(entry, image, (node.get("width"), node.get("height")))
            if size is None:
                continue
            matched += 1
            shapes = []
            # A box in the group of a polygon or mask (Datumaro writes one per object) is
            # that object's extent, not another object.
            grouped = {
                c.get("group_id")
                for c in node
                if c.get("group_id") not in (None, "0") and _KINDS.get(c.tag) == reading.kind
            }
            for child in node:
                if (
                    child.tag == "box"
                    and reading.kind != "box"
                    and child.get("group_id") in grouped
                ):
                    continue
                shapes.extend(_shapes(reading, file, entry, child, image, size))
            reading.add(entry, image, shapes)
        entry["images"] = matched


def _points(file: LabelFile, text: str | None, where: str) -> list[tuple[float, float]]:
    points = []
    for pair in (text or "").split(";"):
        if not pair.strip():
            continue
        x, _, y = pair.partition(",")
        points.append((number(file, x, where), number(file, y, where)))
    return points


def _shapes(
    reading: Reading,
    file: LabelFile,
    entry: dict[str, object],
    node: Element,
    image: str,
    size: tuple[int, int],
) -> list[Shape]:
    kind = _KINDS.get(node.tag)
    where = f"{image}: {node.tag}"
    if kind is None or kind != reading.kind:
        if node.tag != "attribute":
            problem(entry, f"{where}: not a {reading.kind} label")
        return []
    label = reading.label(entry, node.get("label"), where)
    if label is None:
        return []
    if kind == "box":
        x0, y0, x1, y1 = (number(file, node.get(k), where) for k in ("xtl", "ytl", "xbr", "ybr"))
        return [Shape("box", label, [(x0, y0), (x1, y1)])]
    if kind == "polygon":
        return [Shape("polygon", label, _points(file, node.get("points"), where))]
    if kind == "point":
        return [Shape("point", label, [p]) for p in _points(file, node.get("points"), where)]
    if kind == "skeleton":
        names, points, visibility = [], [], []
        for part in node.iter("points"):
            [point] = _points(file, part.get("points"), where) or [(0.0, 0.0)]
            names.append(part.get("label", ""))
            points.append(point)
            outside, occluded = part.get("outside") == "1", part.get("occluded") == "1"
            visibility.append(0 if outside else 1 if occluded else 2)
        return [Shape("skeleton", label, points, visibility=visibility, names=names)]
    if kind == "mask":
        try:
            runs = [int(v) for v in (node.get("rle") or "").split(",")]
            left, top, width, height = (
                int(number(file, node.get(k), where)) for k in ("left", "top", "width", "height")
            )
            mask = cvat_mask(runs, left, top, width, height, size)
            return [Shape("mask", label, mask=mask)]
        except ValueError as exc:
            raise file.invalid(f"{where}: not a CVAT mask: {exc}") from None
    return [Shape("tag", label)]


CVAT = Importer(
    name="cvat",
    claims=_claims,
    read=_read,
    kinds=("box", "polygon", "point", "skeleton", "mask", "tag"),
)
