"""``tessera aggregate``: aggregate a file of crowd answers from the command line.

``app/cli.py`` mounts this with :func:`add_parser` and dispatches to :func:`run`;
``python -m consensus.cli aggregate ...`` runs it standalone.

Formats:

- classification: CSV ``task,worker,label`` in, CSV ``task,label,confidence`` out;
- multilabel: JSON Lines ``{"task", "worker", "answer": {"labels": [...]}}`` in, JSON Lines
  ``{"task", "answer": {"labels"}, "confidence", "label_confidence"}`` out; or, for a ``.csv``
  input, CSV ``task,worker,labels`` (labels joined by ``|``) in and ``task,labels,confidence``
  out. The confidence is the probability that the whole set is right;
- bbox / polygon / segmentation / keypoints / points (``consensus.geometry.KINDS``): JSON Lines ``{"task", "worker", "answer"}`` in,
  JSON Lines ``{"task", "answer", "confidence"}`` out, via ``consensus.geometry``.

Malformed input exits with code 2 and ``error: FILE: line N: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from consensus._data import read_csv, read_gold_csv
from consensus._kinds import GEOMETRY_TYPES
from consensus.errors import ConsensusError, InputError

if TYPE_CHECKING:
    from consensus._base import BaseClassifier
    from consensus.multilabel import MultiLabelAnswers
    from consensus.skills import WorkerSkills

__all__ = ["add_parser", "build_parser", "main", "run"]

# Method name -> class in consensus.classification, imported when chosen: a DS run loads
# neither scipy.optimize (Auto, GLAD) nor the geometry code (scipy.ndimage, shapely).
METHODS: dict[str, tuple[str, str]] = {
    "auto": ("consensus.classification.auto", "Auto"),
    "mv": ("consensus.classification.majority_vote", "MajorityVote"),
    "wmv": ("consensus.classification.majority_vote", "WeightedMajorityVote"),
    "ds": ("consensus.classification.dawid_skene", "DawidSkene"),
    "onecoin": ("consensus.classification.one_coin", "OneCoinDawidSkene"),
    "glad": ("consensus.classification.glad", "GLAD"),
}


def method_class(name: str) -> type[BaseClassifier]:
    """The estimator class of a ``--method`` name."""
    import importlib

    module, cls = METHODS[name]
    out: type[BaseClassifier] = getattr(importlib.import_module(module), cls)
    return out


TYPES = ("classification", "multilabel", *GEOMETRY_TYPES)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``aggregate`` sub-command to an argparse ``subparsers`` object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "aggregate",
        help="aggregate crowd answers into consensus labels",
        description="Aggregate crowd answers into consensus answers with a confidence.",
    )
    p.add_argument(
        "input", metavar="INPUT", help="answers: CSV task,worker,label (or JSON Lines for geometry)"
    )
    p.add_argument("--type", choices=TYPES, default="classification", dest="annotation_type")
    p.add_argument("--method", choices=sorted(METHODS), default="auto")
    p.add_argument("--gold", metavar="GOLD.csv", help="known answers: CSV task,true_label")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout)")
    p.add_argument(
        "--workers-out", metavar="FILE", help="write worker skills (.json: full state, else CSV)"
    )
    p.set_defaults(func=run)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``aggregate``; returns the process exit code (2 on bad input)."""
    try:
        if args.annotation_type == "classification":
            _classification(args)
        elif args.annotation_type == "multilabel":
            _multilabel(args)
        else:
            _geometry(args)
    except (ConsensusError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
    else:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            yield fh


def _classification(args: argparse.Namespace) -> None:
    answers = read_csv(args.input)
    gold = read_gold_csv(args.gold) if args.gold else None
    model = method_class(args.method)().fit(answers, gold)
    body = _label_rows(model.task_names_, model.label_names_, model.label_codes_, model.confidence_)
    with _output(args.output) as out:
        out.write("task,label,confidence\n")
        if body is not None:
            out.write(body)
        else:
            # Rounded floats print shortest-repr in C; np.char.mod costs 0.2 s per 200k rows.
            conf: list[float] = np.round(model.confidence_, 6).tolist()
            csv.writer(out, lineterminator="\n").writerows(
                zip(model.task_names_.tolist(), model.labels_.tolist(), conf, strict=True)
            )
    if args.workers_out:
        _write_skills(args.workers_out, model.skills_)


_NEEDS_QUOTES = np.frombuffer(b',"\r\n', dtype=np.uint8)


def _ascii_cells(names: NDArray[np.str_]) -> tuple[NDArray[np.uint8], NDArray[np.intp]] | None:
    """Names as a (n, width) byte matrix and their lengths; None unless every name is ASCII,
    NUL-free and needs no CSV quoting (the csv module then writes the rows)."""
    try:
        raw = names.astype(np.bytes_)
    except UnicodeEncodeError:
        return None
    width = max(raw.dtype.itemsize, 1)
    cells = np.ascontiguousarray(raw).view(np.uint8).reshape(-1, width)
    lengths = np.char.str_len(raw).astype(np.intp) if raw.size else np.zeros(0, np.intp)
    inside = np.arange(width)[None, :] < lengths[:, None]
    if (cells[inside] == 0).any() or np.isin(cells, _NEEDS_QUOTES).any():
        return None
    return cells, lengths


def _label_rows(
    task_names: NDArray[np.str_],
    label_names: NDArray[np.str_],
    label_codes: NDArray[np.intp],
    confidence: NDArray[np.float64],
) -> str | None:
    """The ``task,label,confidence`` rows, byte for byte what ``csv.writer`` writes for
    ``(task, label, round(confidence, 6))``, built with whole-array operations (a C writer:
    0.1 s of Python per 200,000 rows otherwise). None when a row falls outside what this
    handles (quoting, non-ASCII names, a confidence below 1e-4 that Python prints in
    scientific notation), and the caller writes with the csv module.
    """
    n = task_names.shape[0]
    if n == 0 or not np.isfinite(confidence).all():
        return None
    tasks = _ascii_cells(task_names)
    labels = _ascii_cells(label_names)
    if tasks is None or labels is None:
        return None
    # np.round(x, 6) is rint(x * 1e6) / 1e6, and the shortest repr of that double is the
    # six-decimal number with its trailing zeros dropped (one digit kept): no other string
    # of at most seven significant digits maps to the same double.
    micro = np.rint(confidence * 1e6)
    if micro.min() < 100 or micro.max() > 9_999_999:  # repr switches to 1e-05 below 1e-4
        return None
    micro_i = micro.astype(np.int64)
    whole, frac = np.divmod(micro_i, 1_000_000)
    conf = np.empty((n, 8), dtype=np.uint8)
    conf[:, 0] = 48 + whole
    conf[:, 1] = ord(".")
    for i in range(6):
        conf[:, 2 + i] = 48 + (frac // 10 ** (5 - i)) % 10
    conf_len = np.full(n, 8, dtype=np.intp)
    for p in range(1, 6):
        conf_len -= frac % 10**p == 0
    sep = np.full((n, 1), ord(","), dtype=np.uint8)
    end = np.full((n, 1), ord("\n"), dtype=np.uint8)
    one = np.ones(n, dtype=np.intp)
    blocks = [
        (tasks[0], tasks[1]),
        (sep, one),
        (labels[0][label_codes], labels[1][label_codes]),
        (sep, one),
        (conf, conf_len),
        (end, one),
    ]
    cells = np.concatenate([b for b, _ in blocks], axis=1)
    keep = np.concatenate(
        [np.arange(b.shape[1])[None, :] < length[:, None] for b, length in blocks], axis=1
    )
    text: str = cells[keep].tobytes().decode("ascii")
    return text


def _write_skills(path: str, skills: WorkerSkills) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if path.endswith(".json"):
            json.dump(skills.to_dict(), fh)
            return
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["worker", "accuracy", "accuracy_std", "n_answers"])
        for i, name in enumerate(skills.worker_names):
            w.writerow(
                [
                    name,
                    f"{skills.accuracy[i]:.4f}",
                    f"{skills.accuracy_std[i]:.4f}",
                    int(skills.n_answers[i]),
                ]
            )


def _read_multilabel(path: str) -> MultiLabelAnswers:
    tasks: list[str] = []
    workers: list[str] = []
    sets: list[list[str]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != ["task", "worker", "labels"]:
            raise InputError(f"{path}: line 1: expected header 'task,worker,labels'")
        for row in reader:
            if not row:
                continue
            if len(row) != 3 or not row[0] or not row[1]:
                raise InputError(f"{path}: line {reader.line_num}: expected task,worker,labels")
            tasks.append(row[0])
            workers.append(row[1])
            sets.append([x for x in row[2].split("|") if x])
    from consensus.multilabel import MultiLabelAnswers

    return MultiLabelAnswers.from_records(tasks, workers, sets)


def _read_multilabel_jsonl(path: str) -> MultiLabelAnswers:
    tasks: list[str] = []
    workers: list[str] = []
    sets: list[list[str]] = []
    for i, rec in _read_jsonl(path):
        labels = rec["answer"].get("labels") if isinstance(rec["answer"], dict) else None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InputError(f'{path}: line {i}: answer must be {{"labels": [strings]}}')
        tasks.append(str(rec["task"]))
        workers.append(str(rec["worker"]))
        sets.append(labels)
    from consensus.multilabel import MultiLabelAnswers

    return MultiLabelAnswers.from_records(tasks, workers, sets)


def _multilabel(args: argparse.Namespace) -> None:
    as_csv = args.input.endswith(".csv")
    data = _read_multilabel(args.input) if as_csv else _read_multilabel_jsonl(args.input)
    from consensus.multilabel import MultiLabelAggregator

    model = MultiLabelAggregator(estimator=method_class(args.method)()).fit(data)
    # Confidence that the whole predicted set is right, treating labels as independent.
    set_conf = np.prod(np.maximum(model.probas_, 1.0 - model.probas_), axis=1).tolist()
    names = model.task_names_.tolist()
    with _output(args.output) as out:
        if as_csv:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["task", "labels", "confidence"])
            for name, labels, c in zip(names, model.labels_, set_conf, strict=True):
                w.writerow([name, "|".join(sorted(labels)), f"{c:.6f}"])
        else:
            for i, (name, labels, c) in enumerate(zip(names, model.labels_, set_conf, strict=True)):
                per_label = dict(
                    zip(
                        model.label_names_.tolist(),
                        np.round(model.probas_[i], 6).tolist(),
                        strict=True,
                    )
                )
                rec = {
                    "task": name,
                    "answer": {"labels": sorted(labels)},
                    "confidence": round(c, 6),
                    "label_confidence": per_label,
                }
                out.write(json.dumps(rec) + "\n")
    if args.workers_out:
        _write_skills(args.workers_out, model.estimator_.skills_)


def _read_jsonl(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for each non-blank line of a JSON Lines file."""
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {i}: invalid JSON: {exc.msg}") from exc
            if not isinstance(rec, dict) or not {"task", "worker", "answer"} <= rec.keys():
                raise InputError(f"{path}: line {i}: expected an object with task, worker, answer")
            yield i, rec


def _geometry(args: argparse.Namespace) -> None:
    records = [rec for _, rec in _read_jsonl(args.input)]
    # Imported here, not at the top: classification runs need not pay for loading geometry.
    from consensus.geometry import aggregate_records

    results, skills = aggregate_records(args.annotation_type, records)
    with _output(args.output) as out:
        for rec in results:
            out.write(json.dumps(rec) + "\n")
    if args.workers_out:
        with open(args.workers_out, "w", encoding="utf-8") as fh:
            json.dump(skills, fh)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
