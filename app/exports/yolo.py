"""YOLO (Ultralytics) label zips for bbox, polygon and keypoints projects.

The archive holds ``classes.txt`` (one label per line, line ``i`` is class ``i``), ``data.yaml``
(``names``, ``nc``; ``kpt_shape: [K, 3]`` for keypoints; ``train``/``val`` point at an
``images/`` folder the user fills), one ``labels/<stem>.txt`` per image and ``manifest.csv``
(which label file belongs to which task and image name: stems are sanitised and de-duplicated,
see ``app.exports.naming``). Put each image at ``images/<stem>.<ext>`` to train.

Coordinates are normalised to 0..1 by the image size, with 6 decimals, one object per line:

- bbox: ``class cx cy w h``
- polygon: ``class x1 y1 x2 y2 ...`` (Ultralytics segmentation format)
- keypoints: ``class cx cy w h px1 py1 v1 ...`` (Ultralytics pose format; the box is the extent
  of the labelled points; an unlabelled point is ``0 0 0``)

An image without consensus gets an empty label file (YOLO's "no objects").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from app.annotations import AnnotationSpec, AnnotationType
from app.exports.archive import Manifest, ZipStream
from app.exports.base import ExportItem, class_of, label_index, objects_of
from app.exports.naming import StemAllocator

__all__ = ["classes_txt", "yolo_chunks"]


def yolo_chunks(spec: AnnotationSpec, items: Iterable[ExportItem]) -> Iterator[bytes]:
    """Yield the YOLO zip for ``items`` entry by entry (see the module docstring)."""
    archive = ZipStream()
    manifest = Manifest()
    try:
        yield archive.add("classes.txt", classes_txt(spec))
        yield archive.add("data.yaml", _data_yaml(spec))
        labels = label_index(spec)
        stems = StemAllocator()
        for item in items:
            name = f"labels/{stems.allocate(item.image_name)}.txt"
            manifest.add(item, name)
            lines = [_line(spec, labels, item, obj) for obj in objects_of(item)]
            yield archive.add(name, "".join(line + "\n" for line in lines).encode())
        yield from manifest.write_to(archive)
        yield archive.close()
    finally:
        manifest.close()


def classes_txt(spec: AnnotationSpec) -> bytes:
    """One label per line in class order (line breaks inside a label become spaces)."""
    return "".join(_one_line(label) + "\n" for label in spec.labels).encode()


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def _data_yaml(spec: AnnotationSpec) -> bytes:
    # Names are written as JSON strings: valid YAML double-quoted scalars, whatever they hold.
    lines = [
        "# Tessera consensus export: put image <stem>.<ext> under images/ next to labels/",
        "path: .",
        "train: images",
        "val: images",
        f"nc: {len(spec.labels)}",
        "names:",
        *(f"  {i}: {_yaml_string(label)}" for i, label in enumerate(spec.labels)),
    ]
    if spec.type == AnnotationType.KEYPOINTS:
        lines.append(f"kpt_shape: [{len(spec.keypoints or [])}, 3]")
        names = ", ".join(_one_line(name) for name in spec.keypoints or [])
        lines.append(f"# keypoint order: {names}")
    return ("\n".join(lines) + "\n").encode()


def _yaml_string(text: str) -> str:
    # A JSON string is a YAML double-quoted scalar, except that YAML also breaks lines at
    # NEL, LS and PS: escape those three too.
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted.translate({0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def _fmt(value: float) -> str:
    return f"{min(max(value, 0.0), 1.0):.6f}"


def _line(
    spec: AnnotationSpec, labels: dict[str, int], item: ExportItem, obj: dict[str, Any]
) -> str:
    width, height = float(item.width), float(item.height)
    cls = str(class_of(labels, obj["label"], item.task_id))
    if spec.type == AnnotationType.BBOX:
        x, y, w, h = (float(v) for v in obj["box"])
        return " ".join([cls, *map(_fmt, _centre_box(x, y, w, h, width, height))])
    if spec.type == AnnotationType.POLYGON:
        coords = [_fmt(c) for x, y in obj["points"] for c in (x / width, y / height)]
        return " ".join([cls, *coords])
    triples = [(float(x), float(y), int(v)) for x, y, v in obj["points"]]
    labelled = [(x, y) for x, y, v in triples if v > 0] or [(0.0, 0.0)]
    xs, ys = [p[0] for p in labelled], [p[1] for p in labelled]
    box = _centre_box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys), width, height)
    points: list[str] = []
    for x, y, v in triples:
        points += [_fmt(x / width), _fmt(y / height), str(v)] if v else ["0", "0", "0"]
    return " ".join([cls, *map(_fmt, box), *points])


def _centre_box(
    x: float, y: float, w: float, h: float, width: float, height: float
) -> tuple[float, float, float, float]:
    return (x + w / 2) / width, (y + h / 2) / height, w / width, h / height
