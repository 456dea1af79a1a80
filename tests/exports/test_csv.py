"""CSV exports round-trip through csv.DictReader."""

from __future__ import annotations

import csv
import io

from app.exports import export
from app.exports.base import PREDICTION_COLUMNS
from app.exports.tabular import multilabel_columns
from tests.exports.helpers import item, run, spec

NO_FACTS = dict.fromkeys(PREDICTION_COLUMNS, "")
"""The last columns of a task no one labelled through a model (tests/exports/test_model_facts.py)."""


def read(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_classification_round_trips() -> None:
    animals = spec("classification", ["cat", "dog, big", 'say "hi"'])
    items = [
        item(animals, "tsk_1", "a,b.jpg", {"label": "dog, big"}, confidence=0.9731),
        item(animals, "tsk_2", 'quote"d\nname.jpg', {"label": 'say "hi"'}, confidence=1.0),
        item(animals, "tsk_3", "pending.jpg", None),
    ]
    rows = read(run("csv", animals, items))
    assert rows == [
        {
            "task_id": "tsk_1",
            "image_name": "a,b.jpg",
            "label": "dog, big",
            "confidence": "0.9731",
            "answer_count": "3",
            **NO_FACTS,
        },
        {
            "task_id": "tsk_2",
            "image_name": 'quote"d\nname.jpg',
            "label": 'say "hi"',
            "confidence": "1.0",
            "answer_count": "3",
            **NO_FACTS,
        },
        {
            "task_id": "tsk_3",
            "image_name": "pending.jpg",
            "label": "",
            "confidence": "",
            "answer_count": "3",
            **NO_FACTS,
        },
    ]


def test_multilabel_has_one_column_per_label() -> None:
    tags = spec("multilabel", ["cat", "outdoor", "night"])
    items = [
        item(tags, "tsk_1", "a.jpg", {"labels": ["night", "cat"]}, confidence=0.5),
        item(tags, "tsk_2", "b.jpg", {"labels": []}, confidence=0.8),
        item(tags, "tsk_3", "c.jpg", None),
    ]
    data = run("csv", tags, items)
    header = data.decode().splitlines()[0]
    assert header == ",".join(
        [
            "task_id",
            "image_name",
            "cat",
            "outdoor",
            "night",
            "confidence",
            "answer_count",
            *PREDICTION_COLUMNS,
        ]
    )
    rows = read(data)
    assert [(r["cat"], r["outdoor"], r["night"]) for r in rows] == [
        ("1", "0", "1"),
        ("0", "0", "0"),
        ("", "", ""),  # no consensus yet is not "none of them"
    ]
    assert [r["confidence"] for r in rows] == ["0.5", "0.8", ""]


def test_multilabel_columns_never_collide() -> None:
    tags = spec("multilabel", ["confidence", "label:confidence", "task_id", "x"])
    columns = multilabel_columns(tags)
    assert columns == ["label:label:confidence", "label:confidence", "label:task_id", "x"]
    items = [item(tags, "tsk_1", "a.jpg", {"labels": ["confidence", "x"]}, confidence=0.25)]
    row = read(run("csv", tags, items))[0]
    assert row["label:label:confidence"] == "1"
    assert row["label:confidence"] == "0"
    assert row["x"] == "1"
    assert row["confidence"] == "0.25"
    assert row["task_id"] == "tsk_1"


def test_many_rows_stream_in_several_chunks() -> None:
    animals = spec("classification", ["cat"])
    items = [item(animals, f"tsk_{i}", f"{i}.jpg", {"label": "cat"}) for i in range(3000)]
    chunks = list(export("csv", animals, items).chunks)
    assert len(chunks) > 1
    assert len(read(b"".join(chunks))) == 3000
