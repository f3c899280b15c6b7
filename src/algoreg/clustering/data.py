"""Input checks, preprocessing and CSV reading for convex clustering.

Rows of ``X`` are the observations to cluster, columns the features. The paper's defaults
(clustRviz's ``X.center = TRUE, X.scale = FALSE``) center each column and do not scale.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError

MISSING = frozenset({"", "na", "nan", "null"})


class NonNumericDataError(ConfigError, TypeError):
    """Data that cannot be converted to floating point numbers (a ``TypeError`` too, as in
    NumPy and scikit-learn)."""


def check_data(X: Any, name: str = "X", *, missing: bool = False) -> np.ndarray:
    """Return ``X`` as a float64 ``(n, p)`` array with n ≥ 2, p ≥ 1 and finite entries.

    Errors are :class:`ConfigError` naming what is wrong: not numeric, not 2-D, fewer than two
    observations, rows that are entirely missing (NaN), any other NaN or ±inf. With
    ``missing=True`` (convex biclustering imputes them) NaN entries are allowed, but not a row
    or a column that is entirely missing.
    """
    if hasattr(X, "toarray"):
        raise ConfigError(f"{name}: sparse input is not supported; pass a dense array")
    if np.iscomplexobj(X):
        raise ConfigError(f"{name}: Complex data not supported")
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise NonNumericDataError(f"{name} must be a numeric matrix: {exc}") from None
    if A.ndim != 2:
        raise ConfigError(f"{name} must be 2-D (observations × features), got shape {A.shape}")
    n, p = A.shape
    if p < 1:
        raise ConfigError(
            f"{name} has 0 feature(s) (shape={A.shape}) while a minimum of 1 is required."
        )
    if n < 2:
        raise ConfigError(
            f"{name} must have at least 2 observations (rows) to cluster, got {n} sample"
        )
    nan = np.isnan(A)
    if nan.any():
        empty = np.flatnonzero(nan.all(axis=1))
        if empty.size:
            raise ConfigError(
                f"{name} has {empty.size} row(s) that are entirely missing (NaN), first rows "
                f"{empty[:5].tolist()}: drop them before clustering"
            )
        empty = np.flatnonzero(nan.all(axis=0))
        if missing and empty.size:
            raise ConfigError(
                f"{name} has {empty.size} column(s) that are entirely missing (NaN), first "
                f"columns {empty[:5].tolist()}: drop them before biclustering"
            )
        i, j = np.argwhere(nan)[0]
        if not missing:
            raise ConfigError(
                f"{name} has {int(nan.sum())} missing (NaN) entries, first at row {i}, column "
                f"{j}: convex clustering needs complete data; impute them first (or bicluster)"
            )
    if np.isinf(A).any():
        i, j = np.argwhere(np.isinf(A))[0]
        raise ConfigError(f"{name} has an infinite entry (inf) at row {i}, column {j}")
    return A


def preprocess(X: np.ndarray, *, center: bool = True, scale: bool = False) -> np.ndarray:
    """Column-center and/or scale to unit standard deviation (ddof = 1; constant columns are
    left unscaled)."""
    out = np.array(X, dtype=np.float64)
    if center:
        out -= out.mean(axis=0)
    if scale:
        sd = out.std(axis=0, ddof=1)
        out /= np.where(sd > 0, sd, 1.0)
    return out


def read_csv(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """Read a comma-separated numeric table with a header line: ``(X, column_names)``.

    Empty cells and ``NA``/``NaN`` read as NaN (which :func:`check_data` then reports); any
    other non-numeric cell is a :class:`ConfigError` naming the file, line and column.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise ConfigError(f"{path}: empty file; expected a header line and numeric rows")
        rows: list[list[float]] = []
        for line, cells in enumerate(reader, start=2):
            if not cells:
                continue
            if len(cells) != len(header):
                raise ConfigError(
                    f"{path}: line {line} has {len(cells)} fields, the header has {len(header)}"
                )
            row = []
            for col, cell in zip(header, cells, strict=True):
                text = cell.strip()
                if text.lower() in MISSING:
                    row.append(np.nan)
                    continue
                try:
                    row.append(float(text))
                except ValueError:
                    raise ConfigError(
                        f"{path}: line {line}, column {col!r}: {cell!r} is not a number "
                        "(every column must be numeric; put row names in a separate file)"
                    ) from None
            rows.append(row)
    if not rows:
        raise ConfigError(f"{path}: no data rows after the header")
    return np.array(rows, dtype=np.float64), header


def principal_axes(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(column means, p × 2 axes, variance shares of the two) of X's principal components; a
    second axis of zeros when X has one column."""
    mean = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    axes = Vt[:2].T if Vt.shape[0] >= 2 else np.column_stack([Vt[0], np.zeros_like(Vt[0])])
    share = s[:2] ** 2 / max(float(np.sum(s**2)), 1e-300)
    return mean, axes, np.pad(share, (0, 2 - len(share)))
