"""Label Studio JSON (a task list: ``[{"data": {"image": …}, "annotations": […]}]``), as
``app.exports.labelstudio`` writes it and Label Studio exports it; a task without annotations
gives its ``predictions`` (a model's, imported from Label Studio) instead.

Each task's image is ``data.image_name`` if it is an image of the upload, else ``data.image``
(a path or URL; Label Studio's upload prefix ``<8 hex>-`` is dropped). Regions, in percent of
the image: ``rectanglelabels`` (a rotated one is reported), ``polygonlabels``,
``keypointlabels`` (points; for keypoints projects each region is one keypoint, grouped into
objects by ``meta.object`` as the export writes them, else one object per task) and
``choices`` (classification and multilabel).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from app.exports.shapes import Shape
from app.imports.base import Importer, LabelFile, Reading, number, problem

__all__ = ["LABELSTUDIO"]

_UPLOAD_PREFIX = re.compile(r"^(.*/)?[0-9a-f]{8}-([^/]+)$")
_KINDS = {
    "rectanglelabels": "box",
    "polygonlabels": "polygon",
    "keypointlabels": "point",
    "choices": "tag",
}


def _claims(file: LabelFile) -> bool:
    if file.extension != ".json":
        return False
    document = file.json
    return (
        isinstance(document, list)
        and bool(document)
        and all(isinstance(t, dict) and isinstance(t.get("data"), dict) for t in document)
    )


def _image(reading: Reading, data: dict[str, Any]) -> str | None:
    for key in ("image_name", "image"):
        written = data.get(key)
        if isinstance(written, str) and written:
            found = reading.images.find(written)
            if found is None and (match := _UPLOAD_PREFIX.match(written)):
                found = reading.images.find(match.group(2))
            if found is not None:
                return found
    return None


def _read(reading: Reading, mine: list[LabelFile], _everything: list[LabelFile]) -> None:
    for file in mine:
        entry = reading.entry(file, "labelstudio")
        matched = 0
        for number_, task in enumerate(file.json, start=1):
            image = _image(reading, task["data"])
            if image is None:
                problem(entry, f"task {task.get('id', number_)}: its image is not in the upload")
                continue
            results = task.get("annotations") or task.get("predictions") or []
            if not isinstance(results, list):
                raise file.invalid(f"task {task.get('id', number_)}: annotations is not a list")
            regions = (results[0] or {}).get("result", []) if results else []
            if not isinstance(regions, list) or not all(isinstance(r, dict) for r in regions):
                raise file.invalid(f"task {task.get('id', number_)}: result is not a list")
            first = regions[0] if regions else {}
            declared = (first.get("original_width"), first.get("original_height"))
            size = reading.size(entry, image, declared)
            if size is None:
                continue
            matched += 1
            # A task with an annotation is answered, even with no region ("none of them").
            shapes = _shapes(reading, file, entry, regions, image, size)
            reading.add(entry, image, shapes, explicit=bool(results))
        entry["images"] = matched


def _shapes(
    reading: Reading,
    file: LabelFile,
    entry: dict[str, Any],
    regions: list[dict[str, Any]],
    image: str,
    size: tuple[int, int],
) -> list[Shape]:
    width, height = size
    shapes: list[Shape] = []
    skeletons: dict[tuple[Any, str], dict[str, tuple[float, float, int]]] = defaultdict(dict)
    for region in regions:
        where = f"{image}: region {region.get('id')}"
        kind = region.get("type")
        value = region.get("value")
        if not isinstance(value, dict):
            raise file.invalid(f"{where}: no value")
        wanted = _KINDS.get(str(kind))
        if kind == "keypointlabels" and reading.kind == "skeleton":
            wanted = "skeleton"
        if wanted != reading.kind:
            problem(entry, f"{where}: a {kind} region, not a {reading.kind} label")
            continue

        def px(x: object, y: object, where: str = where) -> tuple[float, float]:
            return number(file, x, where) * width / 100.0, number(file, y, where) * height / 100.0

        names = value.get(str(kind))
        if not isinstance(names, list) or not names:
            raise file.invalid(f"{where}: no {kind}")
        if wanted == "tag":
            for name in names:
                label = reading.label(entry, name, where)
                if label is not None:
                    shapes.append(Shape("tag", label))
            continue
        if wanted == "skeleton":
            meta = region.get("meta") or {}
            label = meta.get("label") or (reading.spec.labels[0] if reading.spec.labels else None)
            if reading.label(entry, label, where) is None:
                continue
            v = int(meta.get("visibility", 2))
            skeletons[(meta.get("object"), str(label))][str(names[0])] = (
                *px(value.get("x"), value.get("y")),
                v,
            )
            continue
        label = reading.label(entry, names[0], where)
        if label is None:
            continue
        if wanted == "box":
            if number(file, value.get("rotation", 0), where):
                problem(entry, f"{where}: a rotated rectangle")
                continue
            x0, y0 = px(value.get("x"), value.get("y"))
            x1, y1 = px(
                number(file, value.get("x"), where) + number(file, value.get("width"), where),
                number(file, value.get("y"), where) + number(file, value.get("height"), where),
            )
            shapes.append(Shape("box", label, [(x0, y0), (x1, y1)]))
        elif wanted == "polygon":
            points = value.get("points")
            if not isinstance(points, list):
                raise file.invalid(f"{where}: no points")
            shapes.append(Shape("polygon", label, [px(*p) for p in points]))
        else:
            shapes.append(Shape("point", label, [px(value.get("x"), value.get("y"))]))
    for (_object, label), points in skeletons.items():
        shapes.append(
            Shape(
                "skeleton",
                label,
                [(x, y) for x, y, _ in points.values()],
                visibility=[v for _, _, v in points.values()],
                names=list(points),
            )
        )
    return shapes


LABELSTUDIO = Importer(
    name="labelstudio",
    claims=_claims,
    read=_read,
    kinds=("box", "polygon", "point", "skeleton", "tag"),
)
