from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from consensus import Answers, InputError, _data, read_csv, read_gold_csv


def _write(tmp_path: Path, text: str, name: str = "a.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


class TestReadCsv:
    def test_codes_and_names_round_trip(self, tmp_path: Path) -> None:
        a = read_csv(_write(tmp_path, "task,worker,label\nb,w2,dog\na,w1,cat\nb,w1,cat\n"))
        assert a.task_names[a.task].tolist() == ["b", "a", "b"]
        assert a.worker_names[a.worker].tolist() == ["w2", "w1", "w1"]
        assert a.label_names.tolist() == ["cat", "dog"]

    def test_crlf_and_no_trailing_newline(self, tmp_path: Path) -> None:
        a = read_csv(_write(tmp_path, "task,worker,label\r\nt,w,x\r\nt,v,y"))
        assert a.n_answers == 2

    def test_quoted_fields_use_csv_rules(self, tmp_path: Path) -> None:
        a = read_csv(_write(tmp_path, 'task,worker,label\n"t,1",w,"a ""b"""\n'))
        assert a.task_names.tolist() == ["t,1"]
        assert a.label_names.tolist() == ['a "b"']

    @pytest.mark.parametrize(
        ("body", "line"),
        [("t,w,x\nt,w\n", 3), ("t,w,x\nt,w,x,y\n", 3), ("t,,x\n", 2), ('"t",w\n', 2)],
    )
    def test_malformed_line_is_reported(self, tmp_path: Path, body: str, line: int) -> None:
        with pytest.raises(InputError, match=f"line {line}:"):
            read_csv(_write(tmp_path, "task,worker,label\n" + body))

    def test_vectorised_reader_matches_the_row_reader(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Short and long names (the uint64 and the fixed-width paths), non-ASCII, prefixes."""
        rng = np.random.default_rng(0)
        pool = ["a", "ab", "abc", "b", "é", "ét", "zz", "t" * 8, "t" * 9, "tâche-longue-12", "日本"]
        rows = [",".join(pool[int(i)] for i in rng.integers(0, len(pool), 3)) for _ in range(300)]
        path = _write(tmp_path, "task,worker,label\n" + "\n".join(rows))  # no final newline
        fast = read_csv(path)
        monkeypatch.setattr(_data, "_columns_vectorised", lambda body, n: None)
        slow = read_csv(path)
        for field in ("task", "worker", "label", "task_names", "worker_names", "label_names"):
            np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field))
        assert fast.task_names[fast.task].tolist() == [r.split(",")[0] for r in rows]

    def test_grouped_and_ascii_files_match_the_row_reader(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Answers grouped by task (runs collapsed before sorting) and ASCII-only names."""
        rng = np.random.default_rng(1)
        rows = [
            f"task{t},w{int(w)},{'xyz'[int(k)]}"
            for t in rng.permutation(120)
            for w, k in zip(rng.integers(0, 15, 5), rng.integers(0, 3, 5), strict=True)
        ]
        path = _write(tmp_path, "task,worker,label\n" + "\n".join(rows) + "\n")
        fast = read_csv(path)
        monkeypatch.setattr(_data, "_columns_vectorised", lambda body, n: None)
        slow = read_csv(path)
        for field in ("task", "worker", "label", "task_names", "worker_names", "label_names"):
            np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field))

    @pytest.mark.parametrize("shape", ["grouped", "shuffled", "constant", "empty"])
    def test_unique_codes_is_np_unique(self, shape: str) -> None:
        rng = np.random.default_rng(2)
        keys = np.repeat(rng.integers(0, 50, 40, dtype=np.uint64), rng.integers(1, 6, 40))
        if shape == "shuffled":
            keys = rng.permutation(keys)
        elif shape == "constant":
            keys = np.full(30, 7, dtype=np.uint64)
        elif shape == "empty":
            keys = keys[:0]
        uniq, codes = _data._unique_codes(keys)
        ref_uniq, ref_codes = np.unique(keys, return_inverse=True)
        np.testing.assert_array_equal(uniq, ref_uniq)
        np.testing.assert_array_equal(codes, ref_codes.ravel())

    def test_wrong_header(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="line 1"):
            read_csv(_write(tmp_path, "a,b,c\nt,w,x\n"))

    def test_empty_body(self, tmp_path: Path) -> None:
        assert read_csv(_write(tmp_path, "task,worker,label\n")).n_answers == 0

    def test_gold(self, tmp_path: Path) -> None:
        assert read_gold_csv(_write(tmp_path, "task,true_label\nt1,a\nt2,b\n")) == {
            "t1": "a",
            "t2": "b",
        }


class TestAnswers:
    def test_from_codes(self) -> None:
        a = Answers.from_codes([0, 1], [0, 0], [1, 0], n_labels=3)
        assert (a.n_tasks, a.n_workers, a.n_labels) == (2, 1, 3)

    def test_label_names_outside_answers(self) -> None:
        a = Answers.from_records(["t"], ["w"], ["b"], label_names=["a", "b", "c"])
        assert a.label.tolist() == [1]

    def test_unknown_label_rejected(self) -> None:
        with pytest.raises(InputError):
            Answers.from_records(["t"], ["w"], ["z"], label_names=["a"])

    def test_gold_codes_drop_unknown(self, toy: Answers) -> None:
        t, lab = toy.gold_codes({"t1": "no", "nope": "yes", "t2": "maybe"})
        assert toy.task_names[t].tolist() == ["t1"]
        assert np.array_equal(toy.label_names[lab], ["no"])
