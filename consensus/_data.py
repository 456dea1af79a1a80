"""Answer container: integer-coded task / worker / label arrays and their string encoders.

Every estimator works on dense integer codes (``0..n-1``) so that the EM passes are plain numpy
gathers and scatters. The names are kept beside the codes to decode results at the edge.

Reading a million-row CSV is a large share of an end-to-end run, so :func:`read_csv` does the
common case (unquoted, well formed) in numpy alone: separators found by one vectorised
comparison, each field of up to 8 bytes read as one big-endian uint64 and encoded by
``np.unique`` (see ``_columns_vectorised``). Anything else goes row-wise (a bulk split, or the
``csv`` module for quoted files), which also reports the line of a malformed row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from consensus.errors import InputError

__all__ = ["Answers", "encode", "read_csv", "read_gold_csv"]

IntArray = NDArray[np.intp]
NameArray = NDArray[np.str_]


def encode(values: Sequence[str] | NDArray[np.generic]) -> tuple[IntArray, NameArray]:
    """Encode values as integer codes into their sorted unique names.

    Args:
        values: Strings (or anything numpy can sort).

    Returns:
        ``(codes, names)`` with ``names[codes] == values``.
    """
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.str_)
    names, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.intp, copy=False).ravel(), names.astype(np.str_)


@dataclass(frozen=True)
class Answers:
    """Crowd answers for one classification job, integer coded.

    Attributes:
        task: Task code of each answer, in ``0..n_tasks-1``.
        worker: Worker code of each answer, in ``0..n_workers-1``.
        label: Label code of each answer, in ``0..n_labels-1``.
        task_names: Original task identifier of each task code.
        worker_names: Original worker identifier of each worker code.
        label_names: Original label of each label code (sorted).
    """

    task: IntArray
    worker: IntArray
    label: IntArray
    task_names: NameArray
    worker_names: NameArray
    label_names: NameArray

    @property
    def n_answers(self) -> int:
        return int(self.task.shape[0])

    @property
    def n_tasks(self) -> int:
        return int(self.task_names.shape[0])

    @property
    def n_workers(self) -> int:
        return int(self.worker_names.shape[0])

    @property
    def n_labels(self) -> int:
        return int(self.label_names.shape[0])

    @classmethod
    def from_records(
        cls,
        tasks: Sequence[str] | NDArray[np.generic],
        workers: Sequence[str] | NDArray[np.generic],
        labels: Sequence[str] | NDArray[np.generic],
        *,
        label_names: Sequence[str] | None = None,
    ) -> Answers:
        """Build from three parallel sequences of identifiers.

        Args:
            tasks: Task identifier of each answer.
            workers: Worker identifier of each answer.
            labels: Label of each answer.
            label_names: Full label set, if some labels may never be answered (their
                posterior is then learned from priors only). Defaults to the labels seen.

        Examples:
            >>> a = Answers.from_records(["t1", "t1", "t2"], ["w1", "w2", "w1"], ["cat", "dog", "cat"])
            >>> a.n_tasks, a.n_workers, a.n_labels
            (2, 2, 2)
        """
        if not len(tasks) == len(workers) == len(labels):
            raise InputError("tasks, workers and labels must have the same length")
        task, task_names = encode(np.asarray(tasks).astype(np.str_))
        worker, worker_names = encode(np.asarray(workers).astype(np.str_))
        label_arr = np.asarray(labels).astype(np.str_)
        if label_names is None:
            label, names = encode(label_arr)
        else:
            names = np.unique(np.asarray(label_names, dtype=np.str_))
            label = np.searchsorted(names, label_arr).astype(np.intp)
            bad = (label >= names.shape[0]) | (
                names[np.minimum(label, names.shape[0] - 1)] != label_arr
            )
            if label_arr.size and bad.any():
                raise InputError(f"label {label_arr[bad][0]!r} is not in label_names")
        return cls(task, worker, label, task_names, worker_names, names)

    @classmethod
    def from_codes(
        cls,
        task: Iterable[int] | IntArray,
        worker: Iterable[int] | IntArray,
        label: Iterable[int] | IntArray,
        *,
        n_labels: int | None = None,
    ) -> Answers:
        """Build from integer codes; names are the codes as strings.

        Args:
            task: Task code of each answer (non-negative).
            worker: Worker code of each answer (non-negative).
            label: Label code of each answer (non-negative).
            n_labels: Number of classes, if larger than ``max(label) + 1``.
        """
        t, w, lab = (
            np.asarray(list(x) if not isinstance(x, np.ndarray) else x, dtype=np.intp)
            for x in (task, worker, label)
        )
        if not t.shape == w.shape == lab.shape:
            raise InputError("task, worker and label must have the same length")
        if t.size and min(t.min(), w.min(), lab.min()) < 0:
            raise InputError("codes must be non-negative")
        n_t = int(t.max()) + 1 if t.size else 0
        n_w = int(w.max()) + 1 if w.size else 0
        n_l = max(int(lab.max()) + 1 if lab.size else 0, n_labels or 0)
        return cls(t, w, lab, _range_names(n_t), _range_names(n_w), _range_names(n_l))

    def gold_codes(self, gold: dict[str, str]) -> tuple[IntArray, IntArray]:
        """Encode a ``{task: true label}`` mapping into (task codes, label codes).

        Gold tasks without answers and gold labels outside ``label_names`` are dropped: they can
        neither be clamped nor inform a worker.
        """
        if not gold or self.n_tasks == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        g_tasks = np.asarray(list(gold.keys()), dtype=np.str_)
        g_labels = np.asarray(list(gold.values()), dtype=np.str_)
        t_idx = _lookup(self.task_names, g_tasks)
        l_idx = _lookup(self.label_names, g_labels)
        keep = (t_idx >= 0) & (l_idx >= 0)
        return t_idx[keep], l_idx[keep]


def _range_names(n: int) -> NameArray:
    return np.arange(n).astype(np.str_)


def _lookup(names: NameArray, values: NameArray) -> IntArray:
    """Codes of ``values`` in ``names``; -1 where absent (names need not be sorted)."""
    index = {n: i for i, n in enumerate(names.tolist())}
    return np.array([index.get(v, -1) for v in values.tolist()], dtype=np.intp)


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def _check_header(header: list[str], expected: Sequence[str], path: object) -> None:
    if [h.strip() for h in header] != list(expected):
        raise InputError(
            f"{path}: line 1: expected header {','.join(expected)!r}, got {','.join(header)!r}"
        )


def _rows_fast(data: bytes, n_cols: int, path: object) -> list[list[bytes]] | None:
    """Split an unquoted CSV body into columns in bulk; None when the slow path is needed."""
    if b'"' in data or b"\n\n" in data.rstrip(b"\n"):
        return None
    body = data.rstrip(b"\n")
    if not body:
        return [[] for _ in range(n_cols)]
    n_lines = body.count(b"\n") + 1
    if body.count(b",") != (n_cols - 1) * n_lines:
        _raise_bad_field_count(data, n_cols, path)
    # One flat split over both separators; each row contributes exactly n_cols fields.
    fields = body.replace(b"\n", b",").split(b",")
    return [fields[i::n_cols] for i in range(n_cols)]


def _columns_vectorised(body: bytes, n_cols: int) -> list[tuple[IntArray, NameArray]] | None:
    """Encode an unquoted, well-formed CSV body entirely in numpy; None for anything else.

    Separators are found with one vectorised comparison over the bytes; each column's fields
    are gathered into a fixed-width (rows, width) byte matrix, which for fields of at most 8
    bytes is one big-endian uint64 per field, so ``np.unique`` sorts integers in the bytes'
    (= UTF-8 code point) order. Whatever this path does not expect (quotes, blank lines, a bad
    field count, an empty field, invalid UTF-8) returns None, and the row-wise path below reads
    the file and reports the exact line.
    """
    if not body or b'"' in body:
        return None
    if not body.endswith(b"\n"):
        body += b"\n"
    # Eight spare bytes after the body, so every field's 8-byte word can be read (below).
    padded = np.zeros(len(body) + 8, dtype=np.uint8)
    padded[: len(body)] = np.frombuffer(body, dtype=np.uint8)
    buf = padded[: len(body)]
    seps = np.flatnonzero((buf == 44) | (buf == 10))
    if seps.size == 0 or seps.size % n_cols:
        return None
    grid = (buf[seps] == 10).reshape(-1, n_cols)
    if not grid[:, -1].all() or grid[:, :-1].any():
        return None
    # Every byte offset as the start of a big-endian uint64 (overlapping, unaligned view of
    # the padded bytes): one gather reads a field's first 8 bytes.
    words = np.ndarray((buf.size,), dtype="<u8", buffer=padded.data, strides=(1,))
    ascii_only = bool(buf.max() < 128)
    out = []
    for c in range(n_cols):
        ends = seps[c::n_cols]
        s = np.empty_like(ends)  # a field starts after the separator before it
        if c:
            np.add(seps[c - 1 :: n_cols], 1, out=s)
        else:
            s[0] = 0
            np.add(seps[n_cols - 1 : -1 : n_cols], 1, out=s[1:])
        n = ends - s
        if int(n.min()) <= 0:
            return None  # an empty field: the row-wise path names its line
        width = int(n.max())
        if width <= 8:
            # A shift pair zeroes the bytes past the field's end, so the integers sort in the
            # bytes' (= UTF-8 code point) order.
            cut = n.astype(np.uint64)
            cut *= 8
            np.subtract(64, cut, out=cut)
            keys = words[s]
            keys.byteswap(inplace=True)  # big-endian: integer order is byte order
            keys = keys.view(np.uint64)
            keys >>= cut
            keys <<= cut
            uniq, codes = _unique_codes(keys)
            raw = uniq.astype(">u8").view("S8")
        else:
            offs = np.arange(width)
            cells = buf[np.minimum(s[:, None] + offs, buf.size - 1)]
            cells[offs[None, :] >= n[:, None]] = 0
            strings = np.ascontiguousarray(cells).view(f"S{width}").ravel()
            raw, codes = _unique_codes(strings)
        if ascii_only:
            names = raw.astype(np.str_)  # vectorised: ASCII bytes are their code points
        else:
            try:
                names = np.array([b.decode("utf-8") for b in raw.tolist()], dtype=np.str_)
            except UnicodeDecodeError:
                return None
        out.append((codes.astype(np.intp, copy=False).ravel(), names))
    return out


def _unique_codes(keys: NDArray[Any]) -> tuple[NDArray[Any], IntArray]:
    """``np.unique(keys, return_inverse=True)``, cheaper on the usual shapes of a crowd file.

    Sorting a million keys is most of a column's cost. Answers usually come grouped by task,
    so runs of equal keys are collapsed first and only the run heads are sorted; a column of
    a handful of values (labels) is encoded by comparisons. (Binary search of a million keys
    into the few thousand workers was tried: slower than sorting them.)
    """
    n = keys.shape[0]
    if n == 0:
        return keys[:0], np.zeros(0, dtype=np.intp)
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    heads = np.flatnonzero(change)
    if heads.shape[0] * 2 <= n:  # grouped: sort the runs, not the rows
        uniq, run_codes = np.unique(keys[heads], return_inverse=True)
        return uniq, np.repeat(run_codes.ravel(), np.diff(np.append(heads, n)))
    few = np.unique(keys[:4096])
    if few.shape[0] <= 16:
        # A handful of values (labels): a code is how many of them the key exceeds, one
        # vectorised comparison each, checked exactly against the key afterwards.
        codes = np.zeros(n, dtype=np.intp)
        for v in few[:-1]:
            codes += keys > v
        if (few[codes] == keys).all():
            return few, codes
    uniq, codes = np.unique(keys, return_inverse=True)
    return uniq, codes.ravel()


def _encode_bytes(col: list[bytes], path: object) -> tuple[IntArray, NameArray]:
    """Dict-encode one column (faster than sorting a million strings), then renumber sorted."""
    # dict.fromkeys and map(dict.__getitem__) both loop in C; only the unique keys are
    # numbered in Python.
    index: dict[bytes, int] = dict.fromkeys(col, 0)
    for i, key in enumerate(index):
        index[key] = i
    codes = np.fromiter(map(index.__getitem__, col), dtype=np.intp, count=len(col))
    if b"" in index:
        line = int(np.flatnonzero(codes == index[b""])[0]) + 2
        raise InputError(f"{path}: line {line}: empty field")
    names = np.array([k.decode("utf-8") for k in index], dtype=np.str_)
    order = np.argsort(names, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return rank[codes].astype(np.intp, copy=False), names[order]


def _raise_bad_field_count(data: bytes, n_cols: int, path: object) -> None:
    for i, line in enumerate(data.split(b"\n"), start=2):
        if line and line.count(b",") != n_cols - 1:
            raise InputError(
                f"{path}: line {i}: expected {n_cols} fields, got {line.count(b',') + 1}"
            )
    raise InputError(
        f"{path}: malformed CSV"
    )  # pragma: no cover - counts disagree only on a bad line


def _rows_slow(data: bytes, n_cols: int, path: object) -> list[NDArray[np.str_]]:
    """``csv`` module path for quoted fields; skips blank lines."""
    out: list[list[str]] = [[] for _ in range(n_cols)]
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    next(reader, None)
    for row in reader:
        if not row:
            continue
        if len(row) != n_cols or any(not f for f in row):
            what = (
                f"expected {n_cols} fields, got {len(row)}" if len(row) != n_cols else "empty field"
            )
            raise InputError(f"{path}: line {reader.line_num}: {what}")
        for col, value in zip(out, row, strict=True):
            col.append(value)
    return [np.asarray(c, dtype=np.str_) for c in out]


def _read_columns(
    path: str | os.PathLike[str], header: Sequence[str]
) -> list[tuple[IntArray, NameArray]]:
    """Read a CSV with the given header into one ``(codes, sorted names)`` pair per column."""
    try:
        data = _read_bytes(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    first, _, rest = data.partition(b"\n")
    if not first.strip():
        raise InputError(f"{path}: line 1: missing header {','.join(header)!r}")
    try:
        _check_header(first.decode("utf-8").split(","), header, path)
        columns = _columns_vectorised(rest, len(header))
        if columns is not None:
            return columns
        fast = _rows_fast(rest, len(header), path)
        if fast is not None:
            return [_encode_bytes(col, path) for col in fast]
        return [encode(col) for col in _rows_slow(data, len(header), path)]
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1 if exc.object is data else 0
        where = f"line {line}: " if line else ""
        raise InputError(f"{path}: {where}not valid UTF-8") from exc


def read_csv(path: str | os.PathLike[str]) -> Answers:
    """Read a ``task,worker,label`` CSV (with that header) into :class:`Answers`.

    Raises:
        InputError: with the 1-based line number of the first malformed line.
    """
    (task, task_names), (worker, worker_names), (label, label_names) = _read_columns(
        path, ("task", "worker", "label")
    )
    return Answers(task, worker, label, task_names, worker_names, label_names)


def read_gold_csv(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a ``task,true_label`` CSV into a ``{task: label}`` dict."""
    (task, task_names), (label, label_names) = _read_columns(path, ("task", "true_label"))
    return dict(zip(task_names[task].tolist(), label_names[label].tolist(), strict=True))
