"""The spectral-thresholding family: SoftImpute, singular value thresholding, hard-impute.

Own NumPy implementations. SVT and hard-impute take a full SVD per iteration (fine up to a few
hundred rows); SoftImpute switches to a warm-started randomized truncated SVD above
``FULL_SVD_MAX`` rows and columns (see :func:`soft_impute`). Notation:
P_Ω keeps the observed entries and zeroes the rest, P_Ω^⊥ = I − P_Ω, and for X = U diag(σ) Vᵀ

- soft thresholding   S_λ(X) = U diag(max(σ − λ, 0)) Vᵀ  (the prox of λ‖·‖_*),
- hard truncation     H_r(X) = U diag(σ_1, …, σ_r, 0, …) Vᵀ  (the best rank-r approximation).

Each iteration limit emits :class:`~algoreg.errors.ConvergenceWarning` with the iteration count
and returns the last iterate with status ``"max_steps"``.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np

from ..engine import FitResult
from ..errors import (
    ConvergenceWarning,
    SlowWarning,
    check_bool,
    check_choice,
    check_int,
    check_real,
)
from ..problems import Problem
from .base import LinearData, blas_limit, linear_data, make_result, metrics64


def soft_threshold(Y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """S_λ(Y) and its (thresholded) singular values."""
    U, s, Vt = np.linalg.svd(Y, full_matrices=False)
    s = np.maximum(s - lam, 0.0)
    k = int(np.count_nonzero(s))
    return (U[:, :k] * s[:k]) @ Vt[:k], s


FULL_SVD_MAX = 300  # SoftImpute's "auto" SVD: full LAPACK SVD when min(m, n) ≤ this
SVD_METHODS = ("auto", "full", "randomized")
SLOW_WARNING_S = 120.0  # warn when a SoftImpute solve may run longer than this
SLOW_ITERATION_S = 0.05  # ... and one iteration takes this long (faster: a small matrix, whose
#                          solve converges long before its iteration limit)


def truncated_svd(
    Y: np.ndarray, k: int, V0: np.ndarray | None, rng: np.random.Generator, power: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k leading singular triplets of Y by randomized subspace iteration (Halko,
    Martinsson & Tropp 2011) with 10 extra columns and ``power`` power iterations, the start
    basis holding ``V0`` (the previous iterate's right singular vectors: warm start)."""
    m, n = Y.shape
    width = min(k + 10, m, n)
    G = rng.standard_normal((n, width))
    if V0 is not None and V0.shape[1]:
        c = min(V0.shape[1], width)
        G[:, :c] = V0[:, :c]
    Q, _ = np.linalg.qr(Y @ G)
    for _ in range(power):
        Q, _ = np.linalg.qr(Y.T @ Q)
        Q, _ = np.linalg.qr(Y @ Q)
    Ub, s, Vt = np.linalg.svd(Q.T @ Y, full_matrices=False)
    return (Q @ Ub)[:, :k], s[:k], Vt[:k].T


def hard_truncate(Y: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """H_r(Y), the best rank-``rank`` approximation, and Y's singular values."""
    U, s, Vt = np.linalg.svd(Y, full_matrices=False)
    return (U[:, :rank] * s[:rank]) @ Vt[:rank], s


def _relative_change(new: np.ndarray, old: np.ndarray) -> float:
    """‖new − old‖_F / ‖old‖_F (‖new‖_F when old = 0; 0 when both are 0)."""
    den = np.linalg.norm(old)
    num = np.linalg.norm(new - old)
    if den > 0:
        return float(num / den)
    return 0.0 if num == 0 else math.inf


def _fill(data: LinearData, Z: np.ndarray) -> np.ndarray:
    """P_Ω(M) + P_Ω^⊥(Z): the observed entries put back into Z."""
    out = Z.copy()
    out[data.rows, data.cols] = data.b
    return out


def _warn(name: str, steps: int, change: float, tol: float, where: str = "") -> None:
    warnings.warn(
        f"{name} stopped at its iteration limit after {steps} iterations{where}: "
        f"criterion {change:.3g} > tol {tol:g}",
        ConvergenceWarning,
        stacklevel=3,
    )


def lambda_max(problem: Problem) -> float:
    """σ_1(P_Ω(M)): the smallest λ at which SoftImpute's solution is X = 0."""
    data = linear_data(problem, "soft_impute", sensing=False)
    return float(np.linalg.norm(data.adjoint(data.b), 2))


def _optional(name: str, value: Any) -> float | None:
    return None if value is None else check_real(name, value, low=0.0, low_open=True)


def check_soft_impute(
    *,
    lam: Any,
    n_lams: Any,
    max_iters: Any,
    tol: Any,
    seed: Any,
    max_rank: Any = None,
    svd: Any = "auto",
    verbose: Any = False,
) -> dict:
    """:func:`soft_impute`'s settings, checked without a problem (a study checks them at load)."""
    return {
        "lam": _optional("lam", lam),
        "n_lams": check_int("n_lams", n_lams, low=1),
        "max_iters": check_int("max_iters", max_iters, low=1),
        "tol": check_real("tol", tol, low=0.0, low_open=True),
        "seed": check_int("seed", seed, low=0),
        "max_rank": None if max_rank is None else check_int("max_rank", max_rank, low=1),
        "svd": check_choice("svd", svd, SVD_METHODS),
        "verbose": check_bool("verbose", verbose),
    }


def check_svt(*, tau: Any, step: Any, max_iters: Any, tol: Any, seed: Any) -> dict:
    """:func:`svt`'s settings, checked without a problem."""
    return {
        "tau": _optional("tau", tau),
        "step": _optional("step", step),
        "max_iters": check_int("max_iters", max_iters, low=1),
        "tol": check_real("tol", tol, low=0.0, low_open=True),
        "seed": check_int("seed", seed, low=0),
    }


def check_hard_impute(*, rank: Any, max_iters: Any, tol: Any, seed: Any) -> dict:
    """:func:`hard_impute`'s settings, checked without a problem (``rank`` ≤ min(m, n) is
    checked by the solve, which knows the shape)."""
    return {
        "rank": check_int("rank", rank, low=1),
        "max_iters": check_int("max_iters", max_iters, low=1),
        "tol": check_real("tol", tol, low=0.0, low_open=True),
        "seed": check_int("seed", seed, low=0),
    }


class _Thresholder:
    """S_λ by a full SVD, or by a warm-started randomized truncated SVD of adaptive rank: k
    triplets are computed (k = the last rank + 5, at least 10, at most ``max_rank``); when all
    k exceed λ, k doubles and the SVD is redone, so the result is S_λ exactly up to the
    randomized SVD's accuracy, which the warm start improves every iteration."""

    def __init__(self, shape, method: str, max_rank: int | None, seed: int) -> None:
        small = min(shape) <= FULL_SVD_MAX
        self.randomized = method == "randomized" or (method == "auto" and not small)
        self.cap = min(shape) if max_rank is None else min(max_rank, min(shape))
        self.rng = np.random.default_rng(seed)
        self.V: np.ndarray | None = None
        self.rank = 0

    def __call__(self, Y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
        if not self.randomized:
            U, s, Vt = np.linalg.svd(Y, full_matrices=False)
            s = np.maximum(s[: self.cap] - lam, 0.0)
        else:
            k = min(self.cap, max(self.rank + 5, 10))
            while True:
                U, s, V = truncated_svd(Y, k, self.V, self.rng, 1 if self.V is not None else 2)
                if k >= self.cap or s[-1] <= lam:
                    break
                k = min(self.cap, 2 * k)
            s = np.maximum(s - lam, 0.0)
            self.V, Vt = V, V.T
        self.rank = int(np.count_nonzero(s))
        r = self.rank
        return (U[:, :r] * s[:r]) @ Vt[:r], s


def soft_impute(
    problem: Problem,
    *,
    lam: float | None = None,
    n_lams: int = 10,
    max_iters: int = 5000,
    tol: float = 1e-6,
    max_rank: int | None = None,
    svd: str = "auto",
    verbose: bool = False,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """SoftImpute (Mazumder, Hastie & Tibshirani 2010) for matrix completion.

    Solves min_X ½‖P_Ω(X − M)‖_F² + λ‖X‖_* by the fixed-point iteration
    Z ← S_λ(P_Ω(M) + P_Ω^⊥(Z)) (proximal gradient with unit step), stopping when
    ‖Z_new − Z‖_F / ‖Z‖_F < ``tol``. The target λ is reached along a decreasing geometric path
    of ``n_lams`` values from λ_max = σ_1(P_Ω(M)) (where the solution is 0), each solve
    warm-started from the previous one; ``max_iters`` bounds the iterations per λ.
    ``lam=None`` means λ = 10⁻³·λ_max.

    ``svd``: ``"full"`` takes a LAPACK SVD per iteration; ``"randomized"`` a warm-started
    randomized SVD of adaptive rank (see :class:`_Thresholder`), which at MovieLens-100K size
    (943 × 1682, rank ≤ 100) costs tens of milliseconds instead of ~0.5 s; ``"auto"`` (default)
    is full up to min(m, n) = ``FULL_SVD_MAX``. ``max_rank`` caps the rank of every iterate
    (softImpute's ``rank.max``: the iteration then keeps the ``max_rank`` leading thresholded
    values, a rank-constrained SoftImpute; None: no cap). A solve whose worst case (n_lams ×
    max_iters iterations at the measured cost of the first) exceeds ``SLOW_WARNING_S`` warns
    with :class:`~algoreg.errors.SlowWarning` and the estimate; ``verbose`` prints one line per λ.

    ``history`` has one row per λ on the path: ``lam``, ``step`` (cumulative iterations),
    ``iters``, ``objective``, ``rank``, ``change`` and the problem's test metrics (and
    ``val_error`` where the problem has a validation set: early stopping on the path then
    chooses λ by it). ``seed`` seeds the randomized SVD; ``blas_threads`` caps BLAS threads
    during the solve (None: no cap).
    """
    data = linear_data(problem, "soft_impute", sensing=False)
    lam, n_lams, max_iters, tol, seed, max_rank, svd, verbose = check_soft_impute(
        lam=lam,
        n_lams=n_lams,
        max_iters=max_iters,
        tol=tol,
        seed=seed,
        max_rank=max_rank,
        svd=svd,
        verbose=verbose,
    ).values()
    with blas_limit(blas_threads):
        t0 = time.perf_counter()
        lmax = float(np.linalg.norm(data.adjoint(data.b), 2))
        if lam is None:
            lam = 1e-3 * lmax if lmax > 0 else 1.0  # lmax = 0: all observations are 0, Z = 0
        if lam >= lmax or n_lams == 1:
            path = np.asarray([lam])
        else:
            path = np.geomspace(lmax, lam, n_lams + 1)[1:]

        threshold = _Thresholder(data.shape, svd, max_rank, seed)
        Z = np.zeros(data.shape)
        s = np.zeros(min(data.shape))
        hist: dict[str, list] = {k: [] for k in ("lam", "step", "iters", "objective", "rank")}
        hist["change"] = []
        total, converged_all, change, warned = 0, True, 0.0, False
        for lam_k in path:
            converged, it = False, 0
            while not converged and it < max_iters:
                it += 1
                t_iter = time.perf_counter()
                Z_new, s = threshold(_fill(data, Z), lam_k)
                change = _relative_change(Z_new, Z)
                converged = change < tol
                Z = Z_new
                if not warned:
                    warned = True
                    _warn_if_slow(time.perf_counter() - t_iter, len(path) * max_iters, data)
            total += it
            if not converged:
                converged_all = False
                _warn("soft_impute", it, change, tol, f" at lam={lam_k:.4g}")
            residual = data.forward(Z) - data.b
            hist["lam"].append(lam_k)
            hist["step"].append(total)
            hist["iters"].append(it)
            hist["objective"].append(0.5 * residual @ residual + lam_k * s.sum())
            hist["rank"].append(int(np.count_nonzero(s)))
            hist["change"].append(change)
            scores = _path_metrics(problem, Z)
            for key, value in scores.items():
                hist.setdefault(key, []).append(value)
            if verbose:
                print(
                    f"soft_impute: lam {lam_k:.4g} ({len(hist['lam'])}/{len(path)}): "
                    f"{it} iterations, rank {hist['rank'][-1]}, change {change:.2g}, "
                    f"{time.perf_counter() - t0:.1f} s",
                    flush=True,
                )
        return make_result(
            problem,
            Z,
            kind="soft_impute",
            converged=converged_all,
            steps=total,
            objective=hist["objective"][-1],
            history=hist,
            wall_time=time.perf_counter() - t0,
            seed=seed,
            params={
                "lam": lam,
                "lam_max": lmax,
                "n_lams": len(path),
                "max_iters": max_iters,
                "tol": tol,
                "max_rank": max_rank,
                "svd": "randomized" if threshold.randomized else "full",
            },
        )


PATH_METRICS = ("test_error", "val_error", "rmse", "rmse_clipped", "mae", "mae_clipped")


def _path_metrics(problem: Problem, Z: np.ndarray) -> dict[str, float]:
    """The problem's test metrics of Z (float64) that a λ path records: those it has, and
    ``val_error`` only where it is finite (a validation set)."""
    metrics = metrics64(problem, Z)
    out = {k: metrics[k] for k in PATH_METRICS if k in metrics}
    if not math.isfinite(out.get("val_error", math.nan)):
        out.pop("val_error", None)
    return out


def _warn_if_slow(first: float, iterations: int, data: LinearData) -> None:
    """Warn when ``iterations`` iterations at ``first`` seconds each exceed SLOW_WARNING_S."""
    worst = first * iterations
    if worst > SLOW_WARNING_S and first >= SLOW_ITERATION_S:
        m, n = data.shape
        warnings.warn(
            f"soft_impute on a {m}×{n} matrix: one iteration took {first:.2g} s, so up to "
            f"{iterations} iterations (n_lams × max_iters) may take ~{worst / 60:.0f} min; "
            "lower max_iters or n_lams, raise tol or lam, or cap max_rank to finish sooner",
            SlowWarning,
            stacklevel=4,
        )


def svt(
    problem: Problem,
    *,
    tau: float | None = None,
    step: float | None = None,
    max_iters: int = 2000,
    tol: float = 1e-4,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """Singular value thresholding (Cai, Candès & Shen 2010), completion or sensing.

    Solves min_X τ‖X‖_* + ½‖X‖_F² s.t. 𝒜(X) = b (which tends to min ‖X‖_* s.t. 𝒜(X) = b as
    τ → ∞) by Uzawa's iteration on the dual variable Y:

        X_k = S_τ(Y_{k−1}),   Y_k = Y_{k−1} + δ·𝒜*(b − 𝒜(X_k)),

    started at Y_0 = k_0·δ·𝒜*(b) with k_0 = ⌈τ/(δ‖𝒜*(b)‖_2)⌉ (the first k_0 iterates would
    be 0), and stopped when ‖𝒜(X_k) − b‖ / ‖b‖ ≤ ``tol``. Defaults follow the paper, written
    scale-free: δ = 1.2·mn/‖𝒜‖_F² (1.2/p for completion with sampling rate p) and
    τ = 5·√(mn)·‖b‖/‖𝒜‖_F (5n for an n×n matrix with RMS entry 1). ``history`` has one row
    per iteration: ``step``, ``residual`` (relative), ``rank`` and ``objective``. ``seed``
    and ``blas_threads`` as in :func:`soft_impute`.
    """
    data = linear_data(problem, "svt", sensing=True)
    tau, step, max_iters, tol, seed = check_svt(
        tau=tau, step=step, max_iters=max_iters, tol=tol, seed=seed
    ).values()
    with blas_limit(blas_threads):
        t0 = time.perf_counter()
        m, n = data.shape
        fro_sq = float(data.b.size if data.A is None else np.sum(data.A**2))
        b_norm = float(np.linalg.norm(data.b))
        if tau is None:
            tau = 5.0 * math.sqrt(m * n) * b_norm / math.sqrt(fro_sq) if b_norm > 0 else 1.0
        if step is None:
            step = 1.2 * m * n / fro_sq

        start = data.adjoint(data.b)
        start_norm = float(np.linalg.norm(start, 2))
        k0 = math.ceil(tau / (step * start_norm)) if start_norm > 0 else 0
        Y = k0 * step * start
        hist: dict[str, list] = {"step": [], "residual": [], "rank": [], "objective": []}
        converged, res = False, math.inf
        X = np.zeros(data.shape)
        s = np.zeros(min(m, n))
        for it in range(1, max_iters + 1):
            X, s = soft_threshold(Y, tau)
            r = data.b - data.forward(X)
            res = float(np.linalg.norm(r) / b_norm) if b_norm > 0 else float(np.linalg.norm(r))
            hist["step"].append(it)
            hist["residual"].append(res)
            hist["rank"].append(int(np.count_nonzero(s)))
            hist["objective"].append(tau * s.sum() + 0.5 * float(np.sum(s**2)))
            if res <= tol:
                converged = True
                break
            Y = Y + step * data.adjoint(r)
        if not converged:
            _warn("svt", it, res, tol)
        return make_result(
            problem,
            X,
            kind="svt",
            converged=converged,
            steps=it,
            objective=hist["objective"][-1],
            history=hist,
            wall_time=time.perf_counter() - t0,
            seed=seed,
            params={"tau": tau, "step": step, "max_iters": max_iters, "tol": tol},
        )


def hard_impute(
    problem: Problem,
    *,
    rank: int,
    max_iters: int = 2000,
    tol: float = 1e-7,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """Iterative hard-SVD imputation (hard-impute) with a given ``rank``, for completion.

    Z_{k+1} = H_r(P_Ω(M) + P_Ω^⊥(Z_k)): alternating projection between the rank-r matrices
    and the matrices that agree with the observations (a local method for the non-convex
    min ½‖P_Ω(X − M)‖² s.t. rank X ≤ r). Starts from Z_0 = H_r(P_Ω(M)/p), p = |Ω|/(mn), and
    stops when ‖Z_{k+1} − Z_k‖_F / ‖Z_k‖_F < ``tol``. ``history`` has one row per iteration:
    ``step``, ``objective`` (½‖P_Ω(Z − M)‖²) and ``change``. ``seed`` and ``blas_threads`` as
    in :func:`soft_impute`.
    """
    data = linear_data(problem, "hard_impute", sensing=False)
    rank, max_iters, tol, seed = check_hard_impute(
        rank=rank, max_iters=max_iters, tol=tol, seed=seed
    ).values()
    rank = check_int("rank", rank, high=min(data.shape))
    with blas_limit(blas_threads):
        t0 = time.perf_counter()
        p = data.b.size / (data.shape[0] * data.shape[1])
        Z, _ = hard_truncate(data.adjoint(data.b) / p, rank)
        hist: dict[str, list] = {"step": [], "objective": [], "change": []}
        converged, change = False, math.inf
        for it in range(1, max_iters + 1):
            Z_new, _ = hard_truncate(_fill(data, Z), rank)
            change = _relative_change(Z_new, Z)
            Z = Z_new
            residual = data.forward(Z) - data.b
            hist["step"].append(it)
            hist["objective"].append(0.5 * float(residual @ residual))
            hist["change"].append(change)
            if change < tol:
                converged = True
                break
        if not converged:
            _warn("hard_impute", it, change, tol)
        return make_result(
            problem,
            Z,
            kind="hard_impute",
            converged=converged,
            steps=it,
            objective=hist["objective"][-1],
            history=hist,
            wall_time=time.perf_counter() - t0,
            seed=seed,
            params={"rank": rank, "max_iters": max_iters, "tol": tol},
        )
