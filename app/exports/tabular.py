"""CSV for classification and multi-label projects, one row per task, UTF-8, RFC 4180 quoting.

- classification: ``task_id,image_name,label,confidence,answer_count``
- multilabel: ``task_id,image_name,<one 0/1 column per label, in label order>,confidence,
  answer_count``. A label whose name equals another column is written as ``label:<name>``
  (repeated prefixes until unique), so every column name is distinct.

Without consensus yet, ``label`` is empty (multilabel: every label column is empty, not 0, since
"no answer" is not "none of them") and so is ``confidence``; the row is still there. Confidence
is Python's shortest round-trip float text. Cells are not defused for spreadsheets: a value
starting with ``=`` stays as it is, so the file round-trips exactly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from app.annotations import AnnotationSpec, AnnotationType
from app.exports.base import ExportItem, class_of, label_index

__all__ = ["csv_chunks", "multilabel_columns"]

_ROWS_PER_CHUNK = 500
_FIXED = ("task_id", "image_name", "confidence", "answer_count")


def multilabel_columns(spec: AnnotationSpec) -> list[str]:
    """The CSV column name of each label of a multilabel project, in label order."""
    taken = {*_FIXED, *spec.labels}
    columns = []
    for label in spec.labels:
        column = label
        if label in _FIXED:
            column = f"label:{label}"
            while column in taken:
                column = f"label:{column}"
            taken.add(column)
        columns.append(column)
    return columns


def csv_chunks(spec: AnnotationSpec, items: Iterable[ExportItem]) -> Iterator[bytes]:
    """Yield the CSV for ``items``, a few hundred rows per chunk (see the module docstring)."""
    multilabel = spec.type == AnnotationType.MULTILABEL
    middle = multilabel_columns(spec) if multilabel else ["label"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["task_id", "image_name", *middle, "confidence", "answer_count"])
    labels = label_index(spec)
    for count, item in enumerate(items, start=1):
        cells = _label_cells(labels, item, multilabel)
        confidence = "" if item.confidence is None else repr(float(item.confidence))
        writer.writerow([item.task_id, item.image_name, *cells, confidence, item.answer_count])
        if count % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _label_cells(labels: dict[str, int], item: ExportItem, multilabel: bool) -> list[str]:
    if not multilabel:
        if item.answer is None:
            return [""]
        label = item.answer["label"]
        class_of(labels, label, item.task_id)
        return [label]
    if item.answer is None:
        return [""] * len(labels)
    chosen = [0] * len(labels)
    for label in item.answer.get("labels", []):
        chosen[class_of(labels, label, item.task_id)] = 1
    return [str(flag) for flag in chosen]
