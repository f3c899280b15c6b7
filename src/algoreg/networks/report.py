"""Per-layer reports: non-zeros, rank, effective rank, spectral ratio, compression."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..regularizers import L1, Selector, matrix_view


def matrix_stats(M: np.ndarray, rank_tol: float = 1e-2) -> dict[str, float]:
    """rank = #{σ_i > rank_tol·σ_1}; effective rank exp(−Σ q log q), q = σ/Σσ (Roy & Vetterli
    2007); ratio = ‖M‖_*/‖M‖_F. All 0 for M = 0."""
    s = np.linalg.svd(np.asarray(M, np.float64), compute_uv=False)
    if s.size == 0 or s[0] <= 0:
        return {"rank": 0, "effective_rank": 0.0, "ratio": 0.0}
    q = s / s.sum()
    q = q[q > 0]
    return {
        "rank": int(np.sum(s > rank_tol * s[0])),
        "effective_rank": float(np.exp(-np.sum(q * np.log(q)))),
        "ratio": float(s.sum() / np.sqrt(np.sum(s**2))),
    }


def layer_report(
    params: Any,
    *,
    select: Selector = "weights",
    rank_tol: float = 1e-2,
    layout: str = "out_in",
) -> list[dict[str, Any]]:
    """One row per selected tensor plus a ``"total"`` row.

    Columns: layer, shape, size, nnz (entries ≠ 0), density; for ndim ≥ 2 also rank (relative
    tolerance ``rank_tol``), effective_rank, ratio and lowrank_size = r·(m + n) of the matrix
    view (m, n) at that rank. Total: size, nnz, density and compression = size / nnz.
    """
    rows = []
    for name, w in L1(select=select).selected(params):
        a = np.asarray(w)
        row: dict[str, Any] = {
            "layer": name,
            "shape": "x".join(map(str, a.shape)),
            "size": int(a.size),
            "nnz": int(np.count_nonzero(a)),
        }
        row["density"] = row["nnz"] / row["size"]
        if a.ndim >= 2:
            M = np.asarray(matrix_view(w, layout))
            row.update(matrix_stats(M, rank_tol))
            row["lowrank_size"] = int(min(row["rank"] * sum(M.shape), M.size))
        rows.append(row)
    size = sum(r["size"] for r in rows)
    nnz = sum(r["nnz"] for r in rows)
    rows.append(
        {
            "layer": "total",
            "size": size,
            "nnz": nnz,
            "density": nnz / size,
            "compression": size / max(nnz, 1),
        }
    )
    return rows


def markdown_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """A GitHub markdown table of dict rows (floats to 4 significant digits)."""
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))

    def fmt(v: Any) -> str:
        if isinstance(v, float | np.floating):
            return f"{v:.4g}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_csv(path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """Rows to CSV (columns: union of keys in first-seen order)."""
    import csv

    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
