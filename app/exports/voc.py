"""Pascal VOC trees: each type says which box stands for each object (``VocCodec``); bbox
projects give their boxes, polygon projects their polygons' bounding boxes.

The archive is a VOC tree, as Datumaro, CVAT and the VOC devkit read it:

- ``JPEGImages/<name>``: each image under its name (with ``images=true``; the folder keeps its
  VOC name whatever the image type);
- ``Annotations/<stem>.xml``: one per image (the stem is the image's name without its
  extension, folders kept, see ``app.exports.naming``);
- ``ImageSets/Main/default.txt``: every stem, one per line (the one subset, ``default``);
- ``labelmap.txt``: ``background`` then each label with a colour (Datumaro's label map), so
  labels other than VOC's 20 classes are declared;
- ``tessera/manifest.csv``: which file holds which task.

Each XML has ``folder`` (``JPEGImages``), ``filename`` (the image's name, as in every other
format and the JSON results), ``source/tessera_task_id`` and ``source/tessera_image_name``,
``size`` (width, height, depth 3), ``segmented`` 0 and one ``object`` per consensus object:
``name``, ``pose`` Unspecified, ``truncated`` 0, ``difficult`` 0, ``bndbox`` and a non-standard
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

from app.exports.archive import Manifest, Spool, ZipStream
from app.exports.base import (
    ExportFormat,
    ExportItem,
    ImageReader,
    class_of,
    label_index,
    object_confidence,
    objects_of,
)
from app.exports.naming import UniqueStems
from app.exports.yolo import one_line

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = [
    "VocCodec",
    "escape_xml",
    "labelmap_txt",
    "subset_line",
    "voc_box",
    "voc_chunks",
    "voc_colour",
    "voc_format",
]


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
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    images: ImageReader | None = None,
    *,
    codec: VocCodec,
) -> Iterator[bytes]:
    """Yield the VOC zip for ``items`` entry by entry (see the module docstring)."""
    archive, manifest, ids = ZipStream(), Manifest(), Spool()
    try:
        yield archive.add("labelmap.txt", labelmap_txt(spec))
        labels = label_index(spec)
        stems = UniqueStems()
        for item in items:
            stem = stems.stem(item.task_id, item.image_name)
            if images is not None:
                yield archive.add(f"JPEGImages/{item.image_name}", images(item), compress=False)
            name = f"Annotations/{stem}.xml"
            manifest.add(item, name)
            ids.write(subset_line(stem))
            yield archive.add(name, _document(spec, labels, item, item.image_name, codec))
        yield from ids.write_to(archive, "ImageSets/Main/default.txt")
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        ids.close()
        manifest.close()


def subset_line(stem: str) -> bytes:
    """One line of an ``ImageSets`` list: the id as it is (Datumaro reads a whole line as the
    id of a ``Main`` or ``Segmentation`` list, spaces included)."""
    return stem.encode() + b"\n"


def voc_colour(index: int) -> tuple[int, int, int]:
    """The Pascal VOC palette colour of class ``index`` (0 is black, the background)."""
    r = g = b = 0
    for shift in range(7, -1, -1):
        r |= ((index >> 0) & 1) << shift
        g |= ((index >> 1) & 1) << shift
        b |= ((index >> 2) & 1) << shift
        index >>= 3
    return r, g, b


def labelmap_txt(spec: AnnotationSpec) -> bytes:
    """Datumaro's VOC ``labelmap.txt``: ``background`` and each label with its palette colour.
    Line breaks and ``:`` inside a label (the file's separator) become spaces and ``_``."""
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for index, label in enumerate(spec.labels, start=1):
        r, g, b = voc_colour(index)
        lines.append(f"{one_line(label).replace(':', '_')}:{r},{g},{b}::")
    return ("\n".join(lines) + "\n").encode()


def voc_box(box: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    """``(xmin, ymin, xmax, ymax)``, 1-based inclusive, of a ``[x, y, w, h]`` box."""
    x, y, w, h = (float(v) for v in box)
    xmin = min(max(math.floor(x + _EPSILON) + 1, 1), width)
    ymin = min(max(math.floor(y + _EPSILON) + 1, 1), height)
    xmax = min(max(math.ceil(x + w - _EPSILON), xmin), width)
    ymax = min(max(math.ceil(y + h - _EPSILON), ymin), height)
    return xmin, ymin, xmax, ymax


def escape_xml(value: object, *, attribute: bool = False) -> str:
    """``value`` as XML text (or a double-quoted attribute): characters XML cannot hold become
    ``_``, then ``&``, ``<``, ``>`` (and ``"``, line breaks and tabs in attributes) are escaped."""
    entities = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"} if attribute else {}
    return escape(_NOT_XML.sub("_", str(value)), entities)


def _document(
    spec: AnnotationSpec, labels: dict[str, int], item: ExportItem, filename: str, codec: VocCodec
) -> bytes:
    # Written from templates rather than ElementTree: ten times faster, and every value goes
    # through _escape (invalid XML characters replaced, then &, <, > escaped).
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n<annotation>\n",
        "  <folder>JPEGImages</folder>\n",
        f"  <filename>{escape_xml(filename)}</filename>\n",
        "  <source>\n    <database>Tessera</database>\n",
        f"    <tessera_task_id>{escape_xml(item.task_id)}</tessera_task_id>\n",
        f"    <tessera_image_name>{escape_xml(item.image_name)}</tessera_image_name>\n",
        "  </source>\n",
        f"  <size>\n    <width>{int(item.width)}</width>\n    <height>{int(item.height)}</height>\n",
        "    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>\n",
    ]
    for index, obj in enumerate(objects_of(item)):
        label = spec.labels[class_of(labels, obj["label"], item.task_id)]
        xmin, ymin, xmax, ymax = voc_box(codec.box(obj), item.width, item.height)
        confidence = object_confidence(item, index)
        parts += [
            f"  <object>\n    <name>{escape_xml(label)}</name>\n",
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
