"""A minimal CSR matrix on scipy's compiled sparse kernels, without importing ``scipy.sparse``.

Every confusion-matrix model spends its EM iterations in two sparse-times-dense products
(``consensus.classification._em``). scipy's C++ kernels (``csr_matvecs``, ``coo_tocsr``) do them
in one streaming pass, 5-6x faster than any numpy formulation measured (``np.bincount`` per
class, ``np.add.reduceat``, padded gathers: benchmarks/consensus/README.md). But importing
``scipy.sparse`` costs 0.3-0.6 s of CPU since scipy 1.15 (``scipy._lib._array_api`` clones the
whole numpy namespace, which imports ``numpy.f2py``, ``numpy.testing``, ``numpy.ma``...), more
than the whole Dawid-Skene fit on a million answers, and ``tessera aggregate`` pays it on every
run. The kernels themselves live in one extension module, ``scipy/sparse/_sparsetools``, that
needs only numpy; this module loads that file directly (0.4 ms) and falls back to the ordinary
import if the file is not where scipy has always put it. The two paths run the same code.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CSR", "sparsetools"]

_MODULE = "scipy.sparse._sparsetools"
_cached: ModuleType | None = None


def _load_direct() -> ModuleType | None:
    """scipy's ``_sparsetools`` extension loaded from its file, or None if not found."""
    spec = importlib.util.find_spec("scipy")  # locates the package; does not import it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = os.path.join(next(iter(spec.submodule_search_locations)), "sparse")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, "_sparsetools" + suffix)
        if os.path.isfile(path):
            loader = importlib.machinery.ExtensionFileLoader(_MODULE, path)
            mod_spec = importlib.util.spec_from_file_location(_MODULE, path, loader=loader)
            if mod_spec is None:
                return None
            module = importlib.util.module_from_spec(mod_spec)
            loader.exec_module(module)
            return module
    return None


def sparsetools() -> ModuleType:
    """scipy's compiled sparse kernels (``coo_tocsr``, ``csr_tocsc``, ``csr_matvecs``), loaded once."""
    global _cached
    if _cached is None:
        module: ModuleType | None = None
        try:
            module = _load_direct()
        except (ImportError, OSError):
            module = None
        if module is None or not all(
            hasattr(module, f) for f in ("coo_tocsr", "csr_tocsc", "csr_matvecs")
        ):
            import importlib

            module = importlib.import_module(_MODULE)
        _cached = module
    return _cached


@dataclass(frozen=True)
class CSR:
    """Compressed sparse rows: ``indptr`` (n_rows + 1), ``indices`` and ``data`` (nnz)."""

    shape: tuple[int, int]
    indptr: NDArray[Any]
    indices: NDArray[Any]
    data: NDArray[np.float64]

    @classmethod
    def from_coo(
        cls,
        rows: NDArray[np.integer[Any]],
        cols: NDArray[np.integer[Any]],
        shape: tuple[int, int],
        data: NDArray[np.float64] | None = None,
    ) -> CSR:
        """Build from coordinates (a counting sort in C, O(nnz)); duplicates are kept and add up
        in products. ``data`` defaults to ones."""
        nnz = int(rows.shape[0])
        index = np.int32 if max(nnz, *shape) < np.iinfo(np.int32).max else np.int64
        values = np.ones(nnz) if data is None else np.asarray(data, dtype=np.float64)
        indptr = np.empty(shape[0] + 1, dtype=index)
        indices = np.empty(nnz, dtype=index)
        out = np.empty(nnz, dtype=np.float64)
        sparsetools().coo_tocsr(
            shape[0],
            shape[1],
            nnz,
            rows.astype(index, copy=False),
            cols.astype(index, copy=False),
            values,
            indptr,
            indices,
            out,
        )
        return cls(shape, indptr, indices, out)

    def transpose(self) -> CSR:
        """The transpose, as CSR (a counting sort in C): each row's indices come out sorted,
        so a product with it reads the dense operand in order."""
        n_rows, n_cols = self.shape
        indptr = np.empty(n_cols + 1, dtype=self.indptr.dtype)
        indices = np.empty(self.indices.shape[0], dtype=self.indices.dtype)
        data = np.empty(self.data.shape[0], dtype=np.float64)
        sparsetools().csr_tocsc(
            n_rows, n_cols, self.indptr, self.indices, self.data, indptr, indices, data
        )
        return CSR((n_cols, n_rows), indptr, indices, data)

    def __matmul__(self, dense: NDArray[np.float64]) -> NDArray[np.float64]:
        """``self @ dense`` for a dense (n_cols, k) float64 array: (n_rows, k)."""
        x = np.ascontiguousarray(dense, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.shape[1]:
            raise ValueError(f"cannot multiply {self.shape} by {x.shape}")
        out = np.zeros((self.shape[0], x.shape[1]), dtype=np.float64)
        sparsetools().csr_matvecs(
            self.shape[0],
            self.shape[1],
            x.shape[1],
            self.indptr,
            self.indices,
            self.data,
            x.ravel(),
            out.ravel(),
        )
        return out

    def toarray(self) -> NDArray[np.float64]:
        """Dense copy (for tests and small matrices)."""
        out = np.zeros(self.shape)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        np.add.at(out, (rows, self.indices), self.data)
        return out
