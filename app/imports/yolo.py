"""Ultralytics YOLO labels: ``labels/**/<stem>.txt`` beside ``images/``, classes from
``data.yaml`` (``names``, and ``kpt_shape`` for pose) or ``classes.txt``.

Each label file belongs to the image Ultralytics would pair it with (``app.exports.yolo
.label_path``: ``images/train/cat.jpg`` ↔ ``labels/train/cat.txt``). Lines, normalised to the
image's size: ``class cx cy w h`` (detection), ``class x1 y1 ...`` (segmentation), ``class cx cy
w h px py [v] ...`` (pose). A bbox project takes a segmentation or pose line's box as well.
"""

from __future__ import annotations

import yaml

from app.exports.shapes import Shape, ShapeKind
from app.exports.yolo import label_path
from app.imports.base import Importer, LabelFile, Reading, number, problem

__all__ = ["YOLO"]


def _claims(file: LabelFile) -> bool:
    return file.extension == ".txt" and "/labels/" in f"/{file.name.lower()}"


def _side(file: LabelFile) -> bool:
    return file.base in ("data.yaml", "data.yml", "classes.txt")


def _config(files: list[LabelFile]) -> tuple[list[str] | None, int]:
    """Class names and values per keypoint (2 or 3) from ``data.yaml`` or ``classes.txt``."""
    for file in files:
        if file.base in ("data.yaml", "data.yml"):
            try:
                document = yaml.safe_load(file.text)
            except yaml.YAMLError as exc:
                raise file.invalid(f"not valid YAML: {exc}") from None
            if not isinstance(document, dict):
                raise file.invalid("not a YOLO data.yaml (no mapping)")
            names = document.get("names")
            shape = document.get("kpt_shape")
            per_point = int(shape[1]) if isinstance(shape, list) and len(shape) == 2 else 3
            if isinstance(names, dict):
                return [str(names[k]) for k in sorted(names)], per_point
            if isinstance(names, list):
                return [str(n) for n in names], per_point
            raise file.invalid("data.yaml has no names")
    for file in files:
        if file.base == "classes.txt":
            return [line.strip() for line in file.text.splitlines() if line.strip()], 3
    return None, 3


def _read(reading: Reading, mine: list[LabelFile], everything: list[LabelFile]) -> None:
    names, per_point = _config(everything)
    images: dict[str, str] = {}
    for name in reading.images.sizes:
        images.setdefault(label_path(f"images/{name}").casefold(), name)
        images.setdefault(label_path(name).casefold(), name)
    for file in mine:
        entry = reading.entry(file, "yolo")
        key = file.name.casefold()
        image = images.get(key) or reading.images.by_stem(_stem_of(file.name))
        if image is None:
            problem(entry, "no image of the upload has this label file's name")
            continue
        if names is None:
            problem(entry, "no data.yaml or classes.txt names the classes")
            continue
        entry["image"] = image
        size = reading.size(entry, image)  # YOLO is normalised: it needs the image's size
        if size is None:
            continue
        width, height = size
        shapes = []
        for line_number, line in enumerate(file.text.splitlines(), start=1):
            values = line.split()
            if not values:
                continue
            where = f"line {line_number}"
            numbers = [number(file, v, where) for v in values]
            cls = numbers[0]
            if cls != int(cls) or not 0 <= cls < len(names):
                problem(entry, f"{where}: class {values[0]} is not in the class names")
                continue
            label = reading.label(entry, names[int(cls)], where)
            if label is None:
                continue
            shape = _shape(reading.kind, label, numbers[1:], (width, height), per_point)
            if shape is None:
                problem(entry, f"{where}: not a {reading.kind} line")
                continue
            shapes.append(shape)
        reading.add(entry, image, shapes)


def _stem_of(label_file: str) -> str:
    """``labels/train/cat.txt`` → ``train/cat``; ``train/labels/cat.txt`` → ``train/cat``."""
    head, _, tail = ("/" + label_file).rpartition("/labels/")
    return (head + "/" + tail).strip("/").rsplit(".", 1)[0]


def _shape(
    kind: ShapeKind, label: str, numbers: list[float], size: tuple[int, int], per_point: int
) -> Shape | None:
    """A normalised YOLO line (after its class) as a shape in pixels of an image of ``size``."""
    width, height = size

    def pixels(xs: list[float], ys: list[float]) -> list[tuple[float, float]]:
        return [(x * width, y * height) for x, y in zip(xs, ys, strict=True)]

    if kind == "box":
        if len(numbers) == 4 or (len(numbers) > 4 and (len(numbers) - 4) % per_point == 0):
            cx, cy, w, h = numbers[:4]
            return Shape("box", label, pixels([cx - w / 2, cx + w / 2], [cy - h / 2, cy + h / 2]))
        if len(numbers) >= 6 and len(numbers) % 2 == 0:
            xs, ys = numbers[::2], numbers[1::2]
            return Shape("box", label, pixels([min(xs), max(xs)], [min(ys), max(ys)]))
        return None
    if kind == "polygon" and len(numbers) >= 6 and len(numbers) % 2 == 0:
        return Shape("polygon", label, pixels(numbers[::2], numbers[1::2]))
    if kind == "skeleton" and len(numbers) > 4 and (len(numbers) - 4) % per_point == 0:
        rest = numbers[4:]
        xs, ys = rest[::per_point], rest[1::per_point]
        visibility = (
            [int(v) for v in rest[2::per_point]]
            if per_point == 3
            else [2 if (x, y) != (0, 0) else 0 for x, y in zip(xs, ys, strict=True)]
        )
        return Shape("skeleton", label, pixels(xs, ys), visibility=visibility)
    return None


YOLO = Importer(
    name="yolo",
    claims=_claims,
    read=_read,
    kinds=("box", "polygon", "skeleton"),
    side_files=_side,
)
