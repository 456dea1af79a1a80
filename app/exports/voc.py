"""Pascal VOC XML zips: each type says which box stands for each object (``VocCodec``); bbox
projects give their boxes, polygon projects their polygons' bounding boxes.

One ``Annotations/<stem>.xml`` per image (the stem is the image's name without its extension,
folders kept, see ``app.exports.naming``; ``manifest.csv`` maps them back to tasks), with
``folder`` (``images``), ``filename`` (the image's name, as in every other format and the
JSON results), ``size`` (width, height,
depth 3), ``segmented`` 0 and one ``object`` per consensus object: ``name``, ``pose``
Unspecified, ``truncated`` 0, ``difficult`` 0, ``bndbox`` and a non-standard
``tessera_confidence`` that VOC readers ignore. An image without consensus has no ``object``.

Rounding: VOC boxes are whole, 1-based, inclusive pixel indices. A box ``[x, y, w, h]`` in
continuous pixel coordinates becomes the smallest set of whole pixels that covers it:
``xmin = floor(x) + 1``, ``ymin = floor(y) + 1``, ``xmax = ceil(x + w)``, ``ymax = ceil(y + h)``
(1e-6 pixel of float noise is forgiven), clamped to the image, with ``xmax >= xmin``. Going back,
``x = xmin - 1`` and ``w = xmax - xmin + 1`` cover the original box to within one pixel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from app.exports.archive import Manifest, ZipStream
from app.exports.base import (
    ExportFormat,
    ExportItem,
    class_of,
    label_index,
    object_confidence,
    objects_of,
)
from app.exports.naming import UniqueStems

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["VocCodec", "voc_box", "voc_chunks", "voc_format"]


@dataclass(frozen=True)
class VocCodec:
    """What one annotation type puts in a VOC export."""

    box: Callable[[dict[str, Any]], list[float]]
    """The ``[x, y, w, h]`` box that stands for one consensus object."""


def voc_format(codec: VocCodec) -> ExportFormat:
    """The ``voc`` format of a type whose objects are boxed by ``codec``."""
    return ExportFormat("application/zip", "_voc.zip", partial(voc_chunks, codec=codec))


_EPSILON = 1e-6
# Characters XML 1.0 cannot hold at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def voc_chunks(
    spec: AnnotationSpec, items: Iterable[ExportItem], *, codec: VocCodec
) -> Iterator[bytes]:
    """Yield the VOC zip for ``items`` entry by entry (see the module docstring)."""
    archive = ZipStream()
    manifest = Manifest()
    try:
        labels = label_index(spec)
        stems = UniqueStems()
        for item in items:
            stem = stems.stem(item.task_id, item.image_name)
            name = f"Annotations/{stem}.xml"
            manifest.add(item, name)
            yield archive.add(name, _document(spec, labels, item, item.image_name, codec))
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        manifest.close()


def voc_box(box: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    """``(xmin, ymin, xmax, ymax)``, 1-based inclusive, of a ``[x, y, w, h]`` box."""
    x, y, w, h = (float(v) for v in box)
    xmin = min(max(math.floor(x + _EPSILON) + 1, 1), width)
    ymin = min(max(math.floor(y + _EPSILON) + 1, 1), height)
    xmax = min(max(math.ceil(x + w - _EPSILON), xmin), width)
    ymax = min(max(math.ceil(y + h - _EPSILON), ymin), height)
    return xmin, ymin, xmax, ymax


def _escape(value: object) -> str:
    return escape(_NOT_XML.sub("_", str(value)))


def _document(
    spec: AnnotationSpec, labels: dict[str, int], item: ExportItem, filename: str, codec: VocCodec
) -> bytes:
    # Written from templates rather than ElementTree: ten times faster, and every value goes
    # through _escape (invalid XML characters replaced, then &, <, > escaped).
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n<annotation>\n",
        "  <folder>images</folder>\n",
        f"  <filename>{_escape(filename)}</filename>\n",
        "  <source>\n    <database>Tessera</database>\n",
        f"    <tessera_task_id>{_escape(item.task_id)}</tessera_task_id>\n",
        f"    <tessera_image_name>{_escape(item.image_name)}</tessera_image_name>\n",
        "  </source>\n",
        f"  <size>\n    <width>{int(item.width)}</width>\n    <height>{int(item.height)}</height>\n",
        "    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>\n",
    ]
    for index, obj in enumerate(objects_of(item)):
        label = spec.labels[class_of(labels, obj["label"], item.task_id)]
        xmin, ymin, xmax, ymax = voc_box(codec.box(obj), item.width, item.height)
        confidence = object_confidence(item, index)
        parts += [
            f"  <object>\n    <name>{_escape(label)}</name>\n",
            "    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n",
            "    <difficult>0</difficult>\n    <bndbox>\n",
            f"      <xmin>{xmin}</xmin>\n      <ymin>{ymin}</ymin>\n",
            f"      <xmax>{xmax}</xmax>\n      <ymax>{ymax}</ymax>\n    </bndbox>\n",
        ]
        if confidence is not None:
            parts.append(f"    <tessera_confidence>{float(confidence)!r}</tessera_confidence>\n")
        parts.append("  </object>\n")
    parts.append("</annotation>\n")
    return "".join(parts).encode()
