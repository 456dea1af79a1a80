"""Pascal VOC: ``Annotations/<stem>.xml`` (boxes) and ``SegmentationClass/<stem>.png`` (masks),
with ``labelmap.txt`` (Datumaro's, as ``app.exports.voc.labelmap_txt`` writes it).

An XML file names its image by ``filename`` (else by its own stem); each ``object`` is a
``name`` and a ``bndbox`` of whole, 1-based, inclusive pixels, read back as the box those pixels
cover: ``x = xmin - 1``, ``w = xmax - xmin + 1`` (the inverse of ``app.exports.voc.voc_box``). A
polygon project takes each box as a four-point polygon. A mask's palette index (or colour) ``k``
is line ``k`` of ``labelmap.txt`` (line 0 the background), or without it VOC's 20 classes.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from app.exports.shapes import Shape
from app.images.names import name_stem
from app.imports.base import Importer, LabelFile, Reading, number, problem
from app.imports.masks import Colours, ValueNames, read_masks

__all__ = ["VOC"]

VOC_CLASSES = (
    "background aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse "
    "motorbike person pottedplant sheep sofa train tvmonitor"
).split()


def _is_xml(file: LabelFile) -> bool:
    if file.extension != ".xml":
        return False
    if file.name.lower().startswith("annotations/") or "/annotations/" in file.name.lower():
        return file.xml.tag == "annotation"
    return file.xml.tag == "annotation"


def _is_mask(file: LabelFile) -> bool:
    return file.extension == ".png" and "segmentationclass/" in file.name.lower()


def _claims(file: LabelFile) -> bool:
    return _is_mask(file) or _is_xml(file)


def _side(file: LabelFile) -> bool:
    lower = file.name.lower()
    return file.base == "labelmap.txt" or (
        lower.startswith("imagesets/") and lower.endswith(".txt")
    )


def _read(reading: Reading, mine: list[LabelFile], everything: list[LabelFile]) -> None:
    masks = [f for f in mine if _is_mask(f)]
    if masks:
        names, colours = _labelmap(everything)
        read_masks(reading, masks, "voc", names, colours)
    for file in mine:
        if not _is_mask(file):
            _xml(reading, file)


def _labelmap(everything: list[LabelFile]) -> tuple[ValueNames, Colours]:
    for file in everything:
        if file.base == "labelmap.txt":
            names: ValueNames = {}
            colours: Colours = {}
            lines = [line for line in file.text.splitlines() if line and not line.startswith("#")]
            for index, line in enumerate(lines):
                name, _, rest = line.partition(":")
                colour = rest.split(":", 1)[0]
                if colour:
                    try:
                        r, g, b = (int(c) for c in colour.split(","))
                    except ValueError:
                        raise file.invalid(f"line {line!r}: colour is not r,g,b") from None
                    colours[(r, g, b)] = index
                if index:
                    names[index] = name
            return names, colours
    from app.exports.voc import voc_colour

    return (
        dict(enumerate(VOC_CLASSES[1:], start=1)),
        {voc_colour(i): i for i in range(len(VOC_CLASSES))},
    )


def _text(file: LabelFile, node: Element, path: str) -> str:
    found = node.findtext(path)
    if found is None:
        raise file.invalid(f"no <{path}>")
    return found.strip()


def _xml(reading: Reading, file: LabelFile) -> None:
    entry = reading.entry(file, "voc")
    root = file.xml
    filename = root.findtext("filename")
    image = reading.images.find(filename) if filename else None
    if image is None:
        _, _, rest = file.name.partition("/")
        image = reading.images.by_stem(name_stem(rest or file.name))
    if image is None:
        problem(entry, f"image {filename or file.name!r} is not in the upload")
        return
    entry["image"] = image
    declared = (root.findtext("size/width"), root.findtext("size/height"))
    if reading.size(entry, image, declared) is None:
        return
    if reading.kind not in ("box", "polygon"):
        problem(entry, f"VOC boxes are not {reading.kind} labels")
        return
    shapes = []
    for index, obj in enumerate(root.iter("object"), start=1):
        where = f"object {index}"
        label = reading.label(entry, _text(file, obj, "name"), where)
        box = obj.find("bndbox")
        if box is None:
            raise file.invalid(f"{where}: no <bndbox>")
        xmin, ymin, xmax, ymax = (
            number(file, _text(file, box, key), f"{where} {key}")
            for key in ("xmin", "ymin", "xmax", "ymax")
        )
        if label is None:
            continue
        x0, y0, x1, y1 = xmin - 1, ymin - 1, xmax, ymax
        if reading.kind == "box":
            shapes.append(Shape("box", label, [(x0, y0), (x1, y1)]))
        else:
            shapes.append(Shape("polygon", label, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
    reading.add(entry, image, shapes)


VOC = Importer(
    name="voc", claims=_claims, read=_read, kinds=("box", "polygon", "mask"), side_files=_side
)
