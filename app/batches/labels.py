"""Labels that come with an upload (a COCO JSON or YOLO label files in the zip, or beside the
images) become pre-annotations, each file reported.

Readers turn a file into shapes per image (``app.exports.shapes``); the project's type turns
its shapes back into an answer (``ShapeCodec.answer``, in its module) and that answer is then
validated like any other (``app.batches.service``). What does not fit is reported per file,
never silently dropped: images the file names but the upload lacks, categories or classes that
are not project labels, shapes of another kind than the type's. So far: COCO (boxes, polygons,
keypoints; ``*.json`` with ``images``/``annotations``/``categories``) and YOLO / Ultralytics
(``labels/**/<stem>.txt``, class names from ``data.yaml`` or ``classes.txt``). VOC, CVAT and
Label Studio files are listed as not read yet.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.exports.shapes import Shape, ShapeKind
from app.exports.yolo import label_path
from app.images.archive import is_label_name
from app.images.names import clean_name

__all__ = ["LabelFiles", "is_label_file"]


def is_label_file(name: str) -> bool:
    """Whether an upload's non-image file is read as labels (``is_label_name``)."""
    return is_label_name(name)


@dataclass
class LabelFiles:
    """The label files of one upload, read against its images' names (as uploaded, cleaned)."""

    files: list[tuple[str, bytes]]
    labels: list[str]
    kind: ShapeKind
    report: list[dict[str, Any]] = field(default_factory=list)

    def shapes(self, sizes: dict[str, tuple[int, int]]) -> dict[str, list[Shape]]:
        """Shapes in pixels per image name (``sizes``: name → width, height); ``report`` gets
        one entry per file."""
        image_names = list(sizes)
        found: dict[str, list[Shape]] = defaultdict(list)
        by_label_file: dict[str, str] = {}
        for name in image_names:
            by_label_file.setdefault(label_path(name), name)
            by_label_file.setdefault(label_path(f"images/{name}"), name)
        yolo_names = self._yolo_names()
        for file_name, data in self.files:
            entry: dict[str, Any] = {"file": file_name}
            try:
                if file_name.lower().endswith(".json"):
                    self._coco(data, image_names, found, entry)
                elif file_name.lower().endswith(".txt") and "labels/" in f"/{file_name}":
                    image = by_label_file.get(clean_name(file_name))
                    size = sizes[image] if image is not None else (1, 1)
                    self._yolo(data, image, size, yolo_names, found, entry)
                elif file_name.lower().endswith((".yaml", ".yml")) or file_name.endswith(
                    "classes.txt"
                ):
                    continue
                else:
                    entry["problems"] = ["not read: only COCO JSON and YOLO label files are"]
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                entry["problems"] = [f"not a readable label file: {exc}"]
            self.report.append(entry)
        return found

    def _yolo_names(self) -> list[str] | None:
        for file_name, data in self.files:
            base = file_name.rsplit("/", 1)[-1].lower()
            if base in ("data.yaml", "data.yml"):
                names = yaml.safe_load(data.decode("utf-8")).get("names")
                if isinstance(names, dict):
                    return [str(names[k]) for k in sorted(names)]
                if isinstance(names, list):
                    return [str(n) for n in names]
        for file_name, data in self.files:
            if file_name.rsplit("/", 1)[-1] == "classes.txt":
                return data.decode("utf-8").splitlines()
        return None

    def _coco(
        self,
        data: bytes,
        image_names: list[str],
        found: dict[str, list[Shape]],
        entry: dict[str, Any],
    ) -> None:
        document = json.loads(data)
        if not isinstance(document, dict) or "annotations" not in document:
            entry["problems"] = ["not a COCO file (no annotations)"]
            return
        problems: list[str] = []
        categories = {c["id"]: c for c in document.get("categories", [])}
        images = {i["id"]: i for i in document.get("images", [])}
        match: dict[int, str] = {}
        for image_id, image in images.items():
            file_name = clean_name(str(image.get("file_name", "")))
            name = next(
                (
                    n
                    for n in image_names
                    if n == file_name or n.endswith("/" + file_name) or file_name.endswith("/" + n)
                ),
                None,
            )
            if name is None:
                problems.append(f"image {file_name!r} is not in the upload")
            else:
                match[image_id] = name
        objects = 0
        for ann in document["annotations"]:
            name = match.get(ann.get("image_id"))
            category = categories.get(ann.get("category_id"))
            if name is None:
                continue
            if category is None or category["name"] not in self.labels:
                problems.append(f"annotation {ann.get('id')}: category is not a project label")
                continue
            shape = self._coco_shape(ann, category)
            if shape is None:
                problems.append(f"annotation {ann.get('id')}: no {self.kind} in it")
                continue
            found[name].append(shape)
            objects += 1
        entry.update(format="coco", images=len(match), objects=objects)
        if problems:
            entry["problems"] = problems[:50]

    def _coco_shape(self, ann: dict[str, Any], category: dict[str, Any]) -> Shape | None:
        label = str(category["name"])
        if self.kind == "box" and len(ann.get("bbox") or []) == 4:
            x, y, w, h = (float(v) for v in ann["bbox"])
            return Shape("box", label, [(x, y), (x + w, y + h)])
        if self.kind == "polygon" and isinstance(ann.get("segmentation"), list):
            flat = [float(v) for v in ann["segmentation"][0]] if ann["segmentation"] else []
            if len(flat) >= 6:
                return Shape("polygon", label, list(zip(flat[::2], flat[1::2], strict=True)))
        keypoints = ann.get("keypoints")
        if self.kind in ("skeleton", "point") and keypoints:
            values = [float(v) for v in keypoints]
            triples = list(zip(values[::3], values[1::3], values[2::3], strict=True))
            if self.kind == "point":
                return Shape("point", label, [(triples[0][0], triples[0][1])])
            return Shape(
                "skeleton",
                label,
                [(x, y) for x, y, _ in triples],
                visibility=[int(v) for _, _, v in triples],
            )
        return None

    def _yolo(
        self,
        data: bytes,
        image: str | None,
        size: tuple[int, int],
        names: list[str] | None,
        found: dict[str, list[Shape]],
        entry: dict[str, Any],
    ) -> None:
        entry["format"] = "yolo"
        if image is None:
            entry["problems"] = ["no image of the upload has this label file's name"]
            return
        if names is None:
            entry["problems"] = ["no data.yaml or classes.txt names the classes"]
            return
        entry["image"] = image
        problems = []
        shapes = []
        for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
            values = line.split()
            if not values:
                continue
            cls = int(values[0])
            label = names[cls] if 0 <= cls < len(names) else None
            if label not in self.labels:
                problems.append(f"line {number}: class {cls} is not a project label")
                continue
            numbers = [float(v) for v in values[1:]]
            shape = _yolo_shape(self.kind, str(label), numbers, size)
            if shape is None:
                problems.append(f"line {number}: not a {self.kind} line")
                continue
            shapes.append(shape)
        found[image].extend(shapes)
        entry["objects"] = len(shapes)
        if problems:
            entry["problems"] = problems[:50]


def _yolo_shape(
    kind: ShapeKind, label: str, numbers: list[float], size: tuple[int, int]
) -> Shape | None:
    """A normalised YOLO line as a shape in pixels of an image of ``size``."""
    width, height = size

    def pixels(xs: list[float], ys: list[float]) -> list[tuple[float, float]]:
        return [(x * width, y * height) for x, y in zip(xs, ys, strict=True)]

    if kind == "box" and len(numbers) == 4:
        cx, cy, w, h = numbers
        return Shape("box", label, pixels([cx - w / 2, cx + w / 2], [cy - h / 2, cy + h / 2]))
    if kind == "polygon" and len(numbers) >= 6 and len(numbers) % 2 == 0:
        return Shape("polygon", label, pixels(numbers[::2], numbers[1::2]))
    if kind == "skeleton" and len(numbers) > 4 and (len(numbers) - 4) % 3 == 0:
        rest = numbers[4:]
        return Shape(
            "skeleton",
            label,
            pixels(rest[::3], rest[1::3]),
            visibility=[int(v) for v in rest[2::3]],
        )
    return None
