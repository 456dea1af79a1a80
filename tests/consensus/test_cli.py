from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from consensus.cli import main

from .conftest import TOY, TOY_TRUTH


@pytest.fixture
def toy_csv(tmp_path: Path) -> Path:
    p = tmp_path / "answers.csv"
    p.write_text(
        "task,worker,label\n" + "".join(f"{t},{w},{lab}\n" for t, w, lab in TOY), encoding="utf-8"
    )
    return p


class TestAggregateClassification:
    @pytest.mark.parametrize("method", ["auto", "mv", "wmv", "ds", "onecoin", "glad"])
    def test_writes_labels_and_confidence(self, toy_csv: Path, tmp_path: Path, method: str) -> None:
        out = tmp_path / "out.csv"
        assert main(["aggregate", str(toy_csv), "--method", method, "-o", str(out)]) == 0
        rows = list(csv.DictReader(out.read_text().splitlines()))
        assert {r["task"]: r["label"] for r in rows} == TOY_TRUTH
        assert all(0.0 < float(r["confidence"]) <= 1.0 for r in rows)

    def test_gold_and_workers_out(self, toy_csv: Path, tmp_path: Path) -> None:
        gold = tmp_path / "gold.csv"
        gold.write_text("task,true_label\nt2,no\n", encoding="utf-8")
        out, skills = tmp_path / "out.csv", tmp_path / "skills.json"
        args = [
            "aggregate",
            str(toy_csv),
            "--gold",
            str(gold),
            "-o",
            str(out),
            "--workers-out",
            str(skills),
        ]
        assert main(args) == 0
        assert {r["task"]: r["label"] for r in csv.DictReader(out.read_text().splitlines())}[
            "t2"
        ] == "no"
        assert set(json.loads(skills.read_text())["workers"]) == {"w1", "w2", "w3", "w4", "w5"}

    def test_workers_out_csv(self, toy_csv: Path, tmp_path: Path) -> None:
        w = tmp_path / "w.csv"
        assert (
            main(
                ["aggregate", str(toy_csv), "-o", str(tmp_path / "o.csv"), "--workers-out", str(w)]
            )
            == 0
        )
        assert next(csv.reader(w.read_text().splitlines())) == [
            "worker",
            "accuracy",
            "accuracy_std",
            "n_answers",
        ]

    def test_stdout(self, toy_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["aggregate", str(toy_csv), "--method", "mv"]) == 0
        assert capsys.readouterr().out.startswith("task,label,confidence\n")

    def test_malformed_line_number(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = tmp_path / "bad.csv"
        bad.write_text("task,worker,label\nt1,w1,a\nt1,w2,a\nt2,w1\n", encoding="utf-8")
        assert main(["aggregate", str(bad)]) == 2
        assert "line 4" in capsys.readouterr().err

    def test_missing_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["aggregate", str(tmp_path / "nope.csv")]) == 2
        assert "nope.csv" in capsys.readouterr().err


class TestAggregateOtherTypes:
    def test_multilabel(self, tmp_path: Path) -> None:
        p = tmp_path / "ml.csv"
        p.write_text(
            "task,worker,labels\nt1,w1,cat|dog\nt1,w2,cat\nt1,w3,cat|dog\nt2,w1,\n",
            encoding="utf-8",
        )
        out = tmp_path / "o.csv"
        assert (
            main(["aggregate", str(p), "--type", "multilabel", "--method", "mv", "-o", str(out)])
            == 0
        )
        rows = {r["task"]: r["labels"] for r in csv.DictReader(out.read_text().splitlines())}
        assert rows == {"t1": "cat|dog", "t2": ""}

    def test_multilabel_jsonl(self, tmp_path: Path) -> None:
        p = tmp_path / "ml.jsonl"
        rows = [
            ("t1", "w1", ["cat", "dog"]),
            ("t1", "w2", ["cat"]),
            ("t1", "w3", ["cat", "dog"]),
            ("t2", "w1", []),
        ]
        p.write_text(
            "".join(
                json.dumps({"task": t, "worker": w, "answer": {"labels": s}}) + "\n"
                for t, w, s in rows
            )
        )
        out = tmp_path / "o.jsonl"
        assert (
            main(["aggregate", str(p), "--type", "multilabel", "--method", "mv", "-o", str(out)])
            == 0
        )
        got = {
            r["task"]: r["answer"]["labels"] for r in map(json.loads, out.read_text().splitlines())
        }
        assert got == {"t1": ["cat", "dog"], "t2": []}

    def test_multilabel_bad_answer(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        p = tmp_path / "ml.jsonl"
        p.write_text(
            '{"task": "t", "worker": "w", "answer": {"labels": []}}\n{"task": "t", "worker": "v", "answer": "cat"}\n'
        )
        assert main(["aggregate", str(p), "--type", "multilabel"]) == 2
        assert "line 2" in capsys.readouterr().err

    def test_geometry_bad_json_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        p = tmp_path / "b.jsonl"
        p.write_text('{"task": "t", "worker": "w", "answer": []}\nnot json\n', encoding="utf-8")
        assert main(["aggregate", str(p), "--type", "bbox"]) == 2
        assert "line 2" in capsys.readouterr().err


class TestLabelRowsWriter:
    """The vectorised writer is byte for byte what csv.writer writes, or steps aside."""

    @staticmethod
    def _csv(names: list[str], labels: list[str], conf: np.ndarray) -> str:
        import io

        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(
            zip(names, labels, np.round(conf, 6).tolist(), strict=True)
        )
        return out.getvalue()

    def test_matches_csv_writer(self) -> None:
        from consensus.cli import _label_rows

        rng = np.random.default_rng(0)
        conf = np.concatenate(
            [
                rng.random(5000),
                1e-4 + rng.random(500) * 1e-3,
                [1.0, 0.5, 0.25, 0.1, 1e-4, 0.0001004999, 0.9999995, 0.99999949999, 1 / 3],
            ]
        )
        conf = conf[conf >= 1e-4]
        names = np.array([f"t{i}" * (1 + i % 3) for i in range(conf.size)])
        label_names = np.array(["a", "bb", "ccc d"])
        codes = rng.integers(0, 3, conf.size)
        got = _label_rows(names, label_names, codes, conf)
        assert got == self._csv(names.tolist(), label_names[codes].tolist(), conf)

    @pytest.mark.parametrize(
        ("task", "conf"),
        [("é", 0.5), ("a,b", 0.5), ('say "hi"', 0.5), ("t", 5e-5), ("t", float("nan"))],
    )
    def test_steps_aside(self, task: str, conf: float) -> None:
        from consensus.cli import _label_rows

        names = np.array([task, "u"])
        got = _label_rows(names, np.array(["x"]), np.array([0, 0]), np.array([conf, 0.5]))
        assert got is None

    def test_cli_output_unchanged_for_quoted_names(self, tmp_path: Path) -> None:
        p = tmp_path / "q.csv"
        p.write_text('task,worker,label\n"t,1",w1,a\n"t,1",w2,a\nt2,w1,b\n', encoding="utf-8")
        out = tmp_path / "o.csv"
        assert main(["aggregate", str(p), "--method", "mv", "-o", str(out)]) == 0
        rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
        assert rows[0] == ["task", "label", "confidence"]
        assert [r[:2] for r in rows[1:]] == [["t,1", "a"], ["t2", "b"]]
