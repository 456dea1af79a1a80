"""The scipy-kernel CSR used by every EM model, loaded without importing scipy.sparse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from consensus import _sparse
from consensus._sparse import CSR


def _random_coo(seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 30)), int(rng.integers(1, 30)))
    nnz = int(rng.integers(0, 200))  # many duplicates at this density
    return rng.integers(0, shape[0], nnz), rng.integers(0, shape[1], nnz), shape


def _dense(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape)
    np.add.at(out, (rows, cols), 1.0)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_products_match_dense(seed: int) -> None:
    rows, cols, shape = _random_coo(seed)
    m = CSR.from_coo(rows, cols, shape)
    dense = _dense(rows, cols, shape)
    x = np.random.default_rng(seed).normal(size=(shape[1], 3))
    y = np.random.default_rng(seed + 100).normal(size=(shape[0], 4))
    np.testing.assert_allclose(m.toarray(), dense)
    np.testing.assert_allclose(m @ x, dense @ x, atol=1e-12)
    t = m.transpose()
    assert t.shape == (shape[1], shape[0])
    np.testing.assert_allclose(t @ y, dense.T @ y, atol=1e-12)
    for r in range(t.shape[0]):  # the transpose's rows come out sorted
        idx = t.indices[t.indptr[r] : t.indptr[r + 1]]
        assert (np.diff(idx) >= 0).all()


def test_shape_mismatch_is_refused() -> None:
    m = CSR.from_coo(np.array([0]), np.array([1]), (2, 3))
    with pytest.raises(ValueError, match="cannot multiply"):
        m @ np.zeros((2, 1))


def test_fallback_import_gives_the_same_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sparse, "_cached", None)
    monkeypatch.setattr(_sparse, "_load_direct", lambda: None)
    rows, cols, shape = _random_coo(7)
    x = np.random.default_rng(7).normal(size=(shape[1], 2))
    np.testing.assert_allclose(CSR.from_coo(rows, cols, shape) @ x, _dense(rows, cols, shape) @ x)
    assert _sparse._cached is not None
    assert _sparse._cached.__name__ == "scipy.sparse._sparsetools"


def test_aggregate_imports_nothing_heavy(tmp_path: Path) -> None:
    """`tessera aggregate --method ds` loads neither scipy.sparse nor the web client."""
    data = tmp_path / "a.csv"
    data.write_text("task,worker,label\nt1,w1,a\nt1,w2,a\nt2,w1,b\nt2,w2,a\n")
    code = (
        "import sys; from app.cli import main; "
        f"rc = main(['aggregate', {str(data)!r}, '--method', 'ds', '-o', {str(tmp_path / 'o.csv')!r}]); "
        "print(rc, sorted(m for m in sys.modules if m.startswith(('scipy', 'httpx', 'pydantic', "
        "'sklearn', 'tessera', 'sqlalchemy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split(None, 1) == ["0", "['scipy.sparse._sparsetools']\n"], out.stdout
    assert (tmp_path / "o.csv").read_text().startswith("task,label,confidence\nt1,a,")
