"""Biased matrix factorization (the "Funk-SVD" recommender model) by alternating least squares.

Predictions r̂_ui = μ + b_u + b_i + p_uᵀ q_i (μ the mean training rating, p_u, q_i ∈ ℝᵏ),
fitted to the training ratings Ω of a :class:`~algoreg.problems.RatingsProblem` by minimising

    Σ_Ω (r_ui − r̂_ui)² + λ (Σ_u c_u ‖p_u‖² + Σ_i c_i ‖q_i‖²) + λ_b (Σ_u b_u² + Σ_i b_i²)

with c = 1 (plain L2, Koren, Bell & Volinsky 2009) or, ``weighted=True``, c_u = |Ω_u| and
c_i = |Ω_i| (ALS-WR, Zhou et al. 2008). Each ALS half-sweep solves every user's (k+1)×(k+1)
ridge system for (b_u, p_u) exactly with the items fixed, then every item's, so the objective
never increases. The ratings problem's validation set (``validation`` in a study) chooses
the rank k, λ and the sweep (early stopping): the grid ``ranks`` × ``lams`` is fitted and the
(k, λ, sweep) with the lowest validation RMSE is kept; the test ratings are only scored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import FitResult
from ..errors import ConfigError, check_bool, check_int, check_real
from ..problems.ratings import check_ratings_problem
from .base import blas_limit, make_result


def _as_list(name: str, value: Any, check) -> list:
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise ConfigError(f"{name} must be a value or a non-empty list of values")
    return [check(f"{name}[{i}]", v) for i, v in enumerate(values)]


def check_biased_mf(
    *,
    ranks: Any,
    lams: Any,
    lam_bias: Any,
    weighted: Any,
    max_sweeps: Any,
    patience: Any,
    init_scale: Any,
    seed: Any,
) -> dict:
    """:func:`biased_mf`'s settings, checked without a problem."""
    return {
        "ranks": _as_list("ranks", ranks, lambda n, v: check_int(n, v, low=1)),
        "lams": _as_list("lams", lams, lambda n, v: check_real(n, v, low=0.0)),
        "lam_bias": check_real("lam_bias", lam_bias, low=0.0),
        "weighted": check_bool("weighted", weighted),
        "max_sweeps": check_int("max_sweeps", max_sweeps, low=1),
        "patience": check_int("patience", patience, low=1),
        "init_scale": check_real("init_scale", init_scale, low=0.0, low_open=True),
        "seed": check_int("seed", seed, low=0),
    }


def rating_scores(
    pred: np.ndarray, values: np.ndarray, low: float, high: float, prefix: str = ""
) -> dict[str, float]:
    """RMSE and MAE of predictions ``pred`` of ratings ``values``, unclipped and clipped to
    [low, high] (as :class:`~algoreg.problems.RatingsProblem`'s metrics)."""
    err, err_c = pred - values, np.clip(pred, low, high) - values
    return {
        f"{prefix}rmse": float(np.sqrt(np.mean(err**2))),
        f"{prefix}mae": float(np.mean(np.abs(err))),
        f"{prefix}rmse_clipped": float(np.sqrt(np.mean(err_c**2))),
        f"{prefix}mae_clipped": float(np.mean(np.abs(err_c))),
    }


def _groups(index: np.ndarray, size: int) -> list[np.ndarray]:
    """Positions of the ratings of each id 0..size-1 (one array per id)."""
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(size + 1))
    return [order[bounds[j] : bounds[j + 1]] for j in range(size)]


def _half_sweep(groups, other, other_bias, fixed_rows, target, lam_reg, lam_bias, weighted):
    """Solve every row's ridge system for (bias, factor) with ``other`` fixed: rows j minimise
    Σ_{r∈Ω_j} (target_r − b_other[r] − b_j − x_jᵀ other[r])² + λ_b b_j² + λ c_j ‖x_j‖²."""
    k = other.shape[1]
    out_b, out_x = np.zeros(len(groups)), np.zeros((len(groups), k))
    design = np.hstack([np.ones((other.shape[0], 1)), other])
    for j, pos in enumerate(groups):
        if pos.size == 0:
            continue
        cols = fixed_rows[pos]
        X = design[cols]
        y = target[pos] - other_bias[cols]
        reg = np.full(k + 1, lam_reg * (pos.size if weighted else 1.0))
        reg[0] = lam_bias
        A = X.T @ X
        A[np.diag_indices_from(A)] += reg
        sol = np.linalg.solve(A, X.T @ y) if reg.min() > 0 else np.linalg.lstsq(A, X.T @ y)[0]
        out_b[j], out_x[j] = sol[0], sol[1:]
    return out_b, out_x


def objective(problem, mu, bu, bi, P, Q, lam, lam_bias, weighted) -> float:
    """The regularized training objective of the module docstring."""
    tr = problem.train
    r = tr.values - mu - bu[tr.users] - bi[tr.items] - np.sum(P[tr.users] * Q[tr.items], 1)
    cu = np.bincount(tr.users, minlength=P.shape[0]) if weighted else np.ones(P.shape[0])
    ci = np.bincount(tr.items, minlength=Q.shape[0]) if weighted else np.ones(Q.shape[0])
    reg = lam * (cu @ np.sum(P**2, 1) + ci @ np.sum(Q**2, 1))
    return float(r @ r + reg + lam_bias * (bu @ bu + bi @ bi))


def fit_als(
    problem,
    rank,
    lam,
    *,
    lam_bias=5.0,
    weighted=False,
    max_sweeps=30,
    patience=3,
    init_scale=0.1,
    seed=0,
    callback=None,
):
    """One ALS fit of rank ``rank`` and weight ``lam``: (params at the best validation sweep,
    history). ``params`` = (μ, b_u, b_i, P, Q); without a validation set, the last sweep's.
    ``history`` per sweep: ``step``, ``objective``, ``train_rmse``, ``val_error`` and the
    test scores of :func:`rating_scores`."""
    m, n = problem.shape
    tr, te, va = problem.train, problem.test, problem.val
    low, high = problem.rating_range
    rng = np.random.default_rng(seed)
    mu = float(np.mean(tr.values))
    P = init_scale * rng.standard_normal((m, rank)) / math.sqrt(rank)
    Q = init_scale * rng.standard_normal((n, rank)) / math.sqrt(rank)
    bu, bi = np.zeros(m), np.zeros(n)
    by_user, by_item = _groups(tr.users, m), _groups(tr.items, n)
    target = tr.values - mu
    hist: dict[str, list] = {}
    best, best_val, since = None, math.inf, 0

    def predict(r):
        return mu + bu[r.users] + bi[r.items] + np.sum(P[r.users] * Q[r.items], 1)

    for sweep in range(1, max_sweeps + 1):
        bi, Q = _half_sweep(by_item, P, bu, tr.users, target, lam, lam_bias, weighted)
        bu, P = _half_sweep(by_user, Q, bi, tr.items, target, lam, lam_bias, weighted)
        row = {
            "step": sweep,
            "objective": objective(problem, mu, bu, bi, P, Q, lam, lam_bias, weighted),
        }
        row["train_rmse"] = float(np.sqrt(np.mean((predict(tr) - tr.values) ** 2)))
        val = rating_scores(predict(va), va.values, low, high)["rmse"] if va else math.nan
        row["val_error"] = val
        row.update(rating_scores(predict(te), te.values, low, high))
        row["test_error"] = row["rmse"]
        for key, v in row.items():
            hist.setdefault(key, []).append(v)
        if callback is not None:
            callback(row)
        if va is None or val < best_val:
            best, best_val, since = (mu, bu, bi, P, Q), val, 0
        else:
            since += 1
            if since >= patience:
                break
    return best, hist


def biased_mf(
    problem,
    *,
    ranks: Sequence[int] | int = (10, 20, 50),
    lams: Sequence[float] | float = (5.0, 10.0, 20.0),
    lam_bias: float = 5.0,
    weighted: bool = False,
    max_sweeps: int = 30,
    patience: int = 3,
    init_scale: float = 0.1,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """Biased MF by ALS (see the module), k and λ chosen on the problem's validation set.

    Every (k, λ) of ``ranks`` × ``lams`` is fitted for at most ``max_sweeps`` sweeps, stopping
    after ``patience`` sweeps without a lower validation RMSE; the returned matrix is W = r̂ −
    the problem's baseline (μ₀, or μ + b_u + b_i with ``center="bias"``) at the best
    validation point, with metrics ``chosen_rank``, ``chosen_lam``, ``val_error`` and the
    problem's test metrics; ``history`` holds the chosen fit's sweeps. Without a validation
    set there must be a single k and λ (and all ``max_sweeps`` are run).
    """
    check_ratings_problem(problem, "biased_mf")
    s = check_biased_mf(
        ranks=ranks,
        lams=lams,
        lam_bias=lam_bias,
        weighted=weighted,
        max_sweeps=max_sweeps,
        patience=patience,
        init_scale=init_scale,
        seed=seed,
    )
    grid = [(k, lam) for k in s["ranks"] for lam in s["lams"]]
    if problem.val is None and len(grid) > 1:
        raise ConfigError(
            f"biased_mf: choosing among {len(grid)} (rank, lam) settings needs a validation "
            "set (a study's problem.validation > 0); give one rank and one lam otherwise"
        )
    with blas_limit(blas_threads):
        t0 = time.perf_counter()
        best = None
        for k, lam in grid:
            params, hist = fit_als(
                problem,
                k,
                lam,
                lam_bias=s["lam_bias"],
                weighted=s["weighted"],
                max_sweeps=s["max_sweeps"],
                patience=s["patience"],
                init_scale=s["init_scale"],
                seed=s["seed"],
            )
            val = float(np.nanmin(hist["val_error"])) if problem.val else 0.0
            if best is None or val < best[0]:
                best = (val, k, lam, params, hist)
        assert best is not None  # the grid of ranks and λ is not empty (checked above)
        _, k, lam, (mu, bu, bi, P, Q), hist = best
        W = mu + bu[:, None] + bi[None, :] + P @ Q.T - problem.baseline
        result = make_result(
            problem,
            W,
            kind="biased_mf",
            converged=True,
            steps=len(hist["step"]),
            objective=objective(problem, mu, bu, bi, P, Q, lam, s["lam_bias"], s["weighted"]),
            history=hist,
            wall_time=time.perf_counter() - t0,
            seed=s["seed"],
            params={**s, "ranks": s["ranks"], "lams": s["lams"]},
        )
    result.metrics.update(chosen_rank=float(k), chosen_lam=float(lam))
    return result


__all__ = ["biased_mf", "check_biased_mf", "fit_als", "objective", "rating_scores"]
