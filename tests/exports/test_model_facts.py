"""Who labelled each task (``labeled_by``) and what its answers did with a model's prediction,
in every export format that has a place for them: CSV columns, ``tessera/manifest.csv`` of every
zip, COCO image fields, Datumaro item attributes, Label Studio task ``meta``; read back by the
tools people use (pycocotools, the CSV module, our own importer)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from app.exports.base import PREDICTION_COLUMNS
from app.imports import read_labels
from tests.exports.sample import Sample, sample

ROWS = {
    "tsk_0": ["crowd", "mdl_1", "0.75", "2", "0.9", "1"],
    "tsk_1": ["model", "mdl_1", "0.97", "0", "", "0"],
    "tsk_2": ["crowd", "", "", "", "", ""],
    "tsk_4": ["", "mdl_1", "0.4", "0", "", "0"],
}


def facts(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    return {r["task_id"]: [r[c] for c in PREDICTION_COLUMNS] for r in rows}


@pytest.mark.parametrize("kind", ["classification", "multilabel", "points"])
def test_csv_ends_with_the_columns(kind: str) -> None:
    data = sample(kind)
    text = data.export("csv", images=False).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.split("\r\n", 1)[0].split(",")
    assert tuple(header[-len(PREDICTION_COLUMNS) :]) == PREDICTION_COLUMNS
    got = facts(rows)
    for task, cells in ROWS.items():
        assert got[task] == cells, task


def test_a_label_named_like_a_column_keeps_its_own_column() -> None:
    from app.exports.tabular import multilabel_columns
    from tests.exports.helpers import spec

    columns = multilabel_columns(spec("multilabel", ["labeled_by", "cat"]))
    assert columns == ["label:labeled_by", "cat"]


@pytest.mark.parametrize(
    ("kind", "format"),
    [
        ("bbox", "yolo"),
        ("bbox", "voc"),
        ("bbox", "coco"),
        ("polygon", "cvat"),
        ("segmentation", "masks"),
        ("keypoints", "datumaro"),
    ],
)
def test_the_zip_manifest_has_the_columns(kind: str, format: str) -> None:
    with zipfile.ZipFile(io.BytesIO(sample(kind).export(format))) as archive:
        text = archive.read("tessera/manifest.csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert facts(rows) == {**facts(rows), **ROWS}


def test_coco_images_carry_them_and_pycocotools_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "coco.json"
    path.write_bytes(sample("bbox").export("coco", images=False))
    coco = COCO(str(path))
    images = {i["tessera_task_id"]: i for i in coco.loadImgs(coco.getImgIds())}
    assert images["tsk_0"]["tessera_labeled_by"] == "crowd"
    assert images["tsk_0"]["tessera_prediction"] == {
        "model_id": "mdl_1",
        "model_score": 0.75,
        "measure": "IoU",
        "answers": [
            {"assignment_id": "asg_1", "worker_id": "acc_1", "agreement": 0.8, "unchanged": False},
            {"assignment_id": "asg_2", "worker_id": "acc_2", "agreement": 1.0, "unchanged": True},
        ],
    }
    assert images["tsk_1"]["tessera_labeled_by"] == "model"
    assert images["tsk_2"]["tessera_prediction"] is None
    assert images["tsk_4"]["tessera_labeled_by"] is None
    assert len(coco.getAnnIds(imgIds=[images["tsk_0"]["id"]])) == 2  # the boxes as before


def test_datumaro_items_carry_scalar_attributes() -> None:
    with zipfile.ZipFile(io.BytesIO(sample("bbox").export("datumaro", images=False))) as archive:
        document = json.loads(archive.read("annotations/default.json"))
    attrs = {item["attr"]["tessera_task_id"]: item["attr"] for item in document["items"]}
    assert attrs["tsk_0"] == {
        "tessera_task_id": "tsk_0",
        "tessera_labeled_by": "crowd",
        "tessera_prediction_model": "mdl_1",
        "tessera_prediction_score": 0.75,
        "tessera_answers_from_prediction": 2,
        "tessera_prediction_unchanged": 1,
        "tessera_prediction_kept": 0.9,
    }
    assert attrs["tsk_2"] == {"tessera_task_id": "tsk_2", "tessera_labeled_by": "crowd"}
    for attr in attrs.values():  # Datumaro's attributes are scalars
        assert all(isinstance(v, str | int | float | bool) for v in attr.values())


def test_label_studio_tasks_carry_them_in_data_and_meta() -> None:
    tasks = json.loads(sample("bbox").export("labelstudio", images=False))
    by_task = {t["data"]["tessera_task_id"]: t for t in tasks}
    assert by_task["tsk_1"]["data"]["tessera_labeled_by"] == "model"
    assert by_task["tsk_0"]["meta"]["tessera_prediction"]["answers"][1]["unchanged"] is True
    assert "meta" not in by_task["tsk_2"]
    assert "predictions" not in by_task["tsk_0"]  # the importer would take one for a label


@pytest.mark.parametrize(
    ("kind", "format"), [("bbox", "coco"), ("bbox", "yolo"), ("multilabel", "csv")]
)
def test_the_exports_still_import_as_before(kind: str, format: str) -> None:
    """Our own importer reads the export (with its manifest) back to what it reads from the same
    export without the facts: the new fields and columns are ignored."""
    data = sample(kind)
    bare = replace(data, items=[replace(i, labeled_by=None, prediction=None) for i in data.items])
    sizes: dict[str, tuple[int, int] | None] = {
        i.image_name: (i.width, i.height) for i in data.items
    }

    def imported(of: Sample) -> dict[str, object]:
        with zipfile.ZipFile(io.BytesIO(of.export(format))) as archive:
            names = [n for n in archive.namelist() if not n.startswith("images/")]
            files = [(n, archive.read(n)) for n in names]
        read = read_labels(of.spec, files, sizes, format=format)
        assert not any(r.get("problems") for r in read.report), read.report
        return dict(read.answers)

    with_facts = imported(data)
    assert len(with_facts) >= 3
    assert with_facts == imported(bare)
