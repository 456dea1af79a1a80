"""Pascal VOC XML zips for bbox projects, and polygon projects through their bounding boxes.

One ``Annotations/<stem>.xml`` per image (stems sanitised and de-duplicated, see
``app.exports.naming``; ``manifest.csv`` maps them back to tasks), with ``folder``
(``images``), ``filename`` (the image's base name as uploaded), ``size`` (width, height,
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
from collections.abc import Iterable, Iterator
from xml.etree import ElementTree as ET

from app.annotations import AnnotationSpec, AnnotationType
from app.exports.archive import Manifest, ZipStream
from app.exports.base import ExportItem, class_of, label_index, object_confidence, objects_of
from app.exports.coco import extent
from app.exports.naming import StemAllocator, image_basename

__all__ = ["voc_box", "voc_chunks"]

_EPSILON = 1e-6
# Characters XML 1.0 cannot hold at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def voc_chunks(spec: AnnotationSpec, items: Iterable[ExportItem]) -> Iterator[bytes]:
    """Yield the VOC zip for ``items`` entry by entry (see the module docstring)."""
    archive = ZipStream()
    manifest = Manifest()
    try:
        labels = label_index(spec)
        stems = StemAllocator()
        for item in items:
            name = f"Annotations/{stems.allocate(item.image_name)}.xml"
            manifest.add(item, name)
            yield archive.add(name, _document(spec, labels, item))
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


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    node = ET.SubElement(parent, tag)
    node.text = _NOT_XML.sub("_", str(value))
    return node


def _document(spec: AnnotationSpec, labels: dict[str, int], item: ExportItem) -> bytes:
    root = ET.Element("annotation")
    _text(root, "folder", "images")
    _text(root, "filename", image_basename(item.image_name))
    source = ET.SubElement(root, "source")
    _text(source, "database", "Tessera")
    _text(source, "tessera_task_id", item.task_id)
    size = ET.SubElement(root, "size")
    _text(size, "width", item.width)
    _text(size, "height", item.height)
    _text(size, "depth", 3)
    _text(root, "segmented", 0)
    for index, obj in enumerate(objects_of(item)):
        label = spec.labels[class_of(labels, obj["label"], item.task_id)]
        if spec.type == AnnotationType.POLYGON:
            box = extent([(float(x), float(y)) for x, y in obj["points"]])
        else:
            box = obj["box"]
        node = ET.SubElement(root, "object")
        _text(node, "name", label)
        _text(node, "pose", "Unspecified")
        _text(node, "truncated", 0)
        _text(node, "difficult", 0)
        bndbox = ET.SubElement(node, "bndbox")
        for tag, value in zip(
            ("xmin", "ymin", "xmax", "ymax"), voc_box(box, item.width, item.height), strict=True
        ):
            _text(bndbox, tag, value)
        confidence = object_confidence(item, index)
        if confidence is not None:
            _text(node, "tessera_confidence", repr(float(confidence)))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
