"""CVAT for images 1.1: ``annotations.xml`` (and ``images/<name>`` with images), a zip that
CVAT's "CVAT for images 1.1" import and Datumaro's ``cvat`` format read.

``meta/task/labels`` declares every label with its shape type (a keypoints project's label is
a ``skeleton`` whose ``sublabels`` are the keypoint names); one ``image`` per task (``id``
0-based in task order, ``name`` the image's name, ``width``, ``height``) holds its shapes:
``box`` (``xtl ytl xbr ybr``), ``polygon`` and ``points`` (``points="x,y;x,y"``), ``skeleton``
(one ``points`` per keypoint, ``outside="1"`` when not labelled, ``occluded="1"`` for v=1),
``mask`` (CVAT's RLE of the label's pixels within their bounding box, row-major, zeros first)
and ``tag``. Coordinates have two decimals, as CVAT writes them. Each shape carries its
consensus confidence as an ``attribute`` named ``tessera_confidence``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from app.exports.archive import Manifest, Spool, ZipStream
from app.exports.base import ExportFormat, ExportItem, ImageReader
from app.exports.naming import UniqueStems
from app.exports.shapes import Shape, ShapeCodec
from app.exports.voc import escape_xml, voc_colour

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["cvat_chunks", "cvat_format", "cvat_rle"]

_TYPES = {
    "box": "rectangle",
    "polygon": "polygon",
    "point": "points",
    "skeleton": "skeleton",
    "mask": "mask",
    "tag": "tag",
}


def cvat_format(codec: ShapeCodec) -> ExportFormat:
    """The ``cvat`` format of a type whose answers read as ``codec``'s shapes."""
    return ExportFormat("application/zip", "_cvat.zip", partial(cvat_chunks, codec=codec))


def cvat_chunks(
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    images: ImageReader | None = None,
    *,
    codec: ShapeCodec,
) -> Iterator[bytes]:
    """Yield the CVAT zip: images as they come, ``annotations.xml`` (spooled) at the end."""
    archive, manifest, xml = ZipStream(), Manifest(), Spool()
    try:
        xml.write(_meta(spec, codec).encode())
        stems = UniqueStems()
        for index, item in enumerate(items):
            stems.stem(item.task_id, item.image_name)
            if images is not None:
                yield archive.add(f"images/{item.image_name}", images(item), compress=False)
            manifest.add(item, "annotations.xml")
            shapes = codec.shapes(spec, item) if item.answer is not None else []
            xml.write(_image(index, item, shapes).encode())
        xml.write(b"</annotations>\n")
        yield from xml.write_to(archive, "annotations.xml")
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        xml.close()
        manifest.close()


def _meta(spec: AnnotationSpec, codec: ShapeCodec) -> str:
    kind = _TYPES[codec.kinds[0]] if len(codec.kinds) == 1 else "any"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n',
        "  <meta>\n    <task>\n      <name>Tessera consensus export</name>\n",
        "      <mode>annotation</mode>\n      <labels>\n",
    ]
    for index, label in enumerate(spec.labels, start=1):
        r, g, b = voc_colour(index)
        parts += [
            f"        <label>\n          <name>{escape_xml(label)}</name>\n",
            f"          <color>#{r:02x}{g:02x}{b:02x}</color>\n          <type>{kind}</type>\n",
            "          <attributes>\n            <attribute>\n",
            "              <name>tessera_confidence</name>\n",
            "              <mutable>False</mutable>\n              <input_type>number</input_type>\n",
            "              <default_value>0</default_value>\n              <values>0;1;0.0001</values>\n",
            "            </attribute>\n          </attributes>\n",
        ]
        if kind == "skeleton":
            parts.append("          <sublabels>\n")
            for name in spec.keypoints or []:
                parts.append(
                    f"            <label>\n              <name>{escape_xml(name)}</name>\n"
                    "              <type>points</type>\n              <attributes/>\n"
                    "            </label>\n"
                )
            parts.append("          </sublabels>\n")
        parts.append("        </label>\n")
    parts.append("      </labels>\n    </task>\n  </meta>\n")
    return "".join(parts)


def _xy(points: list[tuple[float, float]]) -> str:
    return ";".join(f"{x:.2f},{y:.2f}" for x, y in points)


def _confidence(shape: Shape) -> str:
    if shape.confidence is None:
        return ""
    value = f"{float(shape.confidence)!r}"
    return f'\n      <attribute name="tessera_confidence">{value}</attribute>\n    '


def _image(index: int, item: ExportItem, shapes: list[Shape]) -> str:
    parts = [
        f'  <image id="{index}" name="{escape_xml(item.image_name, attribute=True)}" '
        f'width="{int(item.width)}" height="{int(item.height)}">\n'
    ]
    for shape in shapes:
        label = escape_xml(shape.label, attribute=True)
        common = f'label="{label}" source="manual" occluded="0" z_order="0"'
        inner = _confidence(shape)
        if shape.kind == "box":
            (x0, y0), (x1, y1) = shape.points
            parts.append(
                f'    <box {common} xtl="{x0:.2f}" ytl="{y0:.2f}" xbr="{x1:.2f}" '
                f'ybr="{y1:.2f}">{inner}</box>\n'
            )
        elif shape.kind in ("polygon", "point"):
            tag = "polygon" if shape.kind == "polygon" else "points"
            parts.append(f'    <{tag} {common} points="{_xy(shape.points)}">{inner}</{tag}>\n')
        elif shape.kind == "skeleton":
            parts.append(f'    <skeleton label="{label}" source="manual" z_order="0">\n')
            for name, point, v in zip(
                shape.names, shape.points, shape.visibility or [], strict=True
            ):
                parts.append(
                    f'      <points label="{escape_xml(name, attribute=True)}" source="manual" '
                    f'outside="{int(v == 0)}" occluded="{int(v == 1)}" '
                    f'points="{_xy([point])}"/>\n'
                )
            parts.append(
                f"    {inner.strip()}\n    </skeleton>\n" if inner else "    </skeleton>\n"
            )
        elif shape.kind == "mask":
            assert shape.mask is not None
            rle, left, top, width, height = cvat_rle(shape.mask)
            parts.append(
                f'    <mask {common} rle="{rle}" left="{left}" top="{top}" '
                f'width="{width}" height="{height}">{inner}</mask>\n'
            )
        elif shape.kind == "tag":
            parts.append(f'    <tag label="{label}" source="manual">{inner}</tag>\n')
    parts.append("  </image>\n")
    return "".join(parts)


def cvat_rle(binary: np.ndarray) -> tuple[str, int, int, int, int]:
    """CVAT's mask encoding: ``(rle, left, top, width, height)`` of the mask's bounding box,
    ``rle`` the comma-separated run lengths of that box, row-major, starting with zeros."""
    ys, xs = np.nonzero(binary)
    top, left = int(ys.min()), int(xs.min())
    bottom, right = int(ys.max()), int(xs.max())
    crop = np.asarray(binary[top : bottom + 1, left : right + 1], dtype=bool).ravel()
    edges = np.flatnonzero(crop[1:] != crop[:-1]) + 1
    runs = np.diff(np.concatenate(([0], edges, [crop.size]))).tolist()
    if crop[0]:
        runs = [0, *runs]
    return ",".join(map(str, runs)), left, top, right - left + 1, bottom - top + 1
