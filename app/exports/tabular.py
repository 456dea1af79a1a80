"""CSV, one row per task, UTF-8, RFC 4180 quoting; each type writes its own columns (``CsvCodec``).

- classification: ``task_id,image_name,label,confidence,answer_count``
- multilabel: ``task_id,image_name,<one 0/1 column per label, in label order>,confidence,
  answer_count``. A label whose name equals another column is written as ``label:<name>``
  (repeated prefixes until unique), so every column name is distinct.

Every type then ends with who labelled the task and what its answers did with a model's
prediction: ``labeled_by,prediction_model,prediction_score,answers_from_prediction,
prediction_kept,prediction_unchanged`` (``base.prediction_cells``).

Without consensus yet, ``label`` is empty (multilabel: every label column is empty, not 0, since
"no answer" is not "none of them") and so is ``confidence``; the row is still there. Confidence
is Python's shortest round-trip float text. Cells are not defused for spreadsheets: a value
starting with ``=`` stays as it is, so the file round-trips exactly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from app.exports.archive import Spool, ZipStream, with_images
from app.exports.base import (
    PREDICTION_COLUMNS,
    ExportFormat,
    ExportItem,
    ImageReader,
    class_of,
    label_index,
    prediction_cells,
)

if TYPE_CHECKING:
    from app.annotations import AnnotationSpec

__all__ = ["CsvCodec", "csv_chunks", "csv_format", "multilabel_columns"]

_ROWS_PER_CHUNK = 500
_FIXED = ("task_id", "image_name", "confidence", "answer_count", *PREDICTION_COLUMNS)


@dataclass(frozen=True)
class CsvCodec:
    """What one annotation type puts between ``image_name`` and ``confidence``."""

    columns: Callable[[AnnotationSpec], list[str]]
    cells: Callable[[dict[str, int], ExportItem], list[str]]
    """The cells of one item (empty cells without a consensus)."""


def csv_format(codec: CsvCodec) -> ExportFormat:
    """The ``csv`` format of a type whose columns ``codec`` writes."""
    return ExportFormat(
        "text/csv; charset=utf-8", ".csv", partial(csv_chunks, codec=codec), zip_suffix="_csv.zip"
    )


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


def csv_chunks(
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    images: ImageReader | None = None,
    *,
    codec: CsvCodec,
) -> Iterator[bytes]:
    """The CSV, or with ``images`` a zip of ``images/<name>`` and ``results.csv``."""
    if images is None:
        yield from csv_document(spec, items, codec=codec)
        return
    archive, spool = ZipStream(), Spool()
    try:
        pending: list[bytes] = []
        for chunk in csv_document(
            spec, with_images(items, archive, images, "images", pending), codec=codec, rows=1
        ):
            spool.write(chunk)
            yield b"".join(pending)
            pending.clear()
        yield b"".join(pending)
        yield from spool.write_to(archive, "results.csv")
        yield archive.close()
    finally:
        spool.close()


def csv_document(
    spec: AnnotationSpec,
    items: Iterable[ExportItem],
    *,
    codec: CsvCodec,
    rows: int = _ROWS_PER_CHUNK,
) -> Iterator[bytes]:
    """Yield the CSV for ``items``, ``rows`` rows per chunk (see the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "task_id",
            "image_name",
            *codec.columns(spec),
            "confidence",
            "answer_count",
            *PREDICTION_COLUMNS,
        ]
    )
    labels = label_index(spec)
    for count, item in enumerate(items, start=1):
        cells = codec.cells(labels, item)
        confidence = "" if item.confidence is None else repr(float(item.confidence))
        writer.writerow(
            [
                item.task_id,
                item.image_name,
                *cells,
                confidence,
                item.answer_count,
                *prediction_cells(item),
            ]
        )
        if count % rows == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def label_cell(labels: dict[str, int], item: ExportItem) -> list[str]:
    """The ``label`` cell of a single-label answer (empty without a consensus)."""
    if item.answer is None:
        return [""]
    label = item.answer["label"]
    class_of(labels, label, item.task_id)
    return [label]


def label_flags(labels: dict[str, int], item: ExportItem) -> list[str]:
    """One 0/1 cell per label of a multi-label answer (all empty without a consensus)."""
    if item.answer is None:
        return [""] * len(labels)
    chosen = [0] * len(labels)
    for label in item.answer.get("labels", []):
        chosen[class_of(labels, label, item.task_id)] = 1
    return [str(flag) for flag in chosen]
