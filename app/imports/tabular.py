"""CSV with an ``image_name`` column (``results.csv``, as ``app.exports.tabular`` writes it):

- classification: ``label`` (an empty cell is no label);
- multilabel: one 0/1 column per label (``app.exports.tabular.multilabel_columns``: the label,
  or ``label:<label>`` where it equals a fixed column); a row of empty cells is no answer;
- points: ``points``, JSON ``[[label, x, y], ...]``.
"""

from __future__ import annotations

import csv
import io
import json

from app.exports.shapes import Shape
from app.exports.tabular import multilabel_columns
from app.imports.base import Importer, LabelFile, Reading, number, problem

__all__ = ["CSV"]


def _claims(file: LabelFile) -> bool:
    if file.extension != ".csv" or file.name == "tessera/manifest.csv":
        return False
    header = file.text.split("\n", 1)[0]
    return "image_name" in header


def _read(reading: Reading, mine: list[LabelFile], _everything: list[LabelFile]) -> None:
    for file in mine:
        entry = reading.entry(file, "csv")
        rows = list(csv.DictReader(io.StringIO(file.text)))
        columns = dict(zip(multilabel_columns(reading.spec), reading.spec.labels, strict=True))
        matched = 0
        for line, row in enumerate(rows, start=2):
            where = f"line {line}"
            image = reading.images.find(row.get("image_name") or "")
            if image is None:
                problem(entry, f"{where}: image {row.get('image_name')!r} is not in the upload")
                continue
            matched += 1
            shapes: list[Shape] = []
            if reading.kind == "point":
                if not row.get("points"):
                    continue
                try:
                    points = json.loads(row["points"])
                except json.JSONDecodeError:
                    raise file.invalid(f"{where}: points is not JSON") from None
                for point in points:
                    if not isinstance(point, list) or len(point) != 3:
                        raise file.invalid(f"{where}: a point is not [label, x, y]")
                    label = reading.label(entry, point[0], where)
                    if label is not None:
                        xy = (number(file, point[1], where), number(file, point[2], where))
                        shapes.append(Shape("point", label, [xy]))
            elif "label" in row and reading.spec.type == "classification":
                if not row["label"]:
                    continue
                label = reading.label(entry, row["label"], where)
                if label is not None:
                    shapes.append(Shape("tag", label))
            else:
                cells = {label: row.get(column) for column, label in columns.items()}
                if all(not v for v in cells.values()):
                    continue
                for label, value in cells.items():
                    if value not in ("0", "1", "", None):
                        raise file.invalid(f"{where}: {label!r} is {value!r}, not 0 or 1")
                    if value == "1":
                        shapes.append(Shape("tag", label))
                reading.add(entry, image, shapes, explicit=True)  # all 0: "none applies"
                continue
            reading.add(entry, image, shapes)
        entry["images"] = matched


CSV = Importer(name="csv", claims=_claims, read=_read, kinds=("tag", "point"))
