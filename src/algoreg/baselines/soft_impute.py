"""The spectral-thresholding family: SoftImpute, singular value thresholding, hard-impute.

Own NumPy implementations (full SVD per iteration: fine up to a few hundred rows). Notation:
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
from ..errors import ConvergenceWarning, check_int, check_real
from ..problems import Problem
from .base import LinearData, blas_limit, evaluate64, linear_data, make_result


def soft_threshold(Y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """S_λ(Y) and its (thresholded) singular values."""
    U, s, Vt = np.linalg.svd(Y, full_matrices=False)
    s = np.maximum(s - lam, 0.0)
    k = int(np.count_nonzero(s))
    return (U[:, :k] * s[:k]) @ Vt[:k], s


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


def check_soft_impute(*, lam: Any, n_lams: Any, max_iters: Any, tol: Any, seed: Any) -> dict:
    """:func:`soft_impute`'s settings, checked without a problem (a study checks them at load)."""
    return {
        "lam": _optional("lam", lam),
        "n_lams": check_int("n_lams", n_lams, low=1),
        "max_iters": check_int("max_iters", max_iters, low=1),
        "tol": check_real("tol", tol, low=0.0, low_open=True),
        "seed": check_int("seed", seed, low=0),
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


def soft_impute(
    problem: Problem,
    *,
    lam: float | None = None,
    n_lams: int = 10,
    max_iters: int = 5000,
    tol: float = 1e-6,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """SoftImpute (Mazumder, Hastie & Tibshirani 2010) for matrix completion.

    Solves min_X ½‖P_Ω(X − M)‖_F² + λ‖X‖_* by the fixed-point iteration
    Z ← S_λ(P_Ω(M) + P_Ω^⊥(Z)) (proximal gradient with unit step), stopping when
    ‖Z_new − Z‖_F / ‖Z‖_F < ``tol``. The target λ is reached along a decreasing geometric path
    of ``n_lams`` values from λ_max = σ_1(P_Ω(M)) (where the solution is 0), each solve
    warm-started from the previous one; ``max_iters`` bounds the iterations per λ.
    ``lam=None`` means λ = 10⁻³·λ_max. ``history`` has one row per λ on the path: ``lam``,
    ``step`` (cumulative iterations), ``iters``, ``objective``, ``rank``, ``change`` and the
    problem's ``test_error``. ``seed`` is recorded only (the method is deterministic);
    ``blas_threads`` caps BLAS threads during the solve (None: no cap).
    """
    data = linear_data(problem, "soft_impute", sensing=False)
    lam, n_lams, max_iters, tol, seed = check_soft_impute(
        lam=lam, n_lams=n_lams, max_iters=max_iters, tol=tol, seed=seed
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

        Z = np.zeros(data.shape)
        s = np.zeros(min(data.shape))
        hist: dict[str, list] = {k: [] for k in ("lam", "step", "iters", "objective", "rank")}
        hist.update(change=[], test_error=[])
        total, converged_all, change = 0, True, 0.0
        for lam_k in path:
            converged, it = False, 0
            while not converged and it < max_iters:
                it += 1
                Z_new, s = soft_threshold(_fill(data, Z), lam_k)
                change = _relative_change(Z_new, Z)
                converged = change < tol
                Z = Z_new
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
            hist["test_error"].append(evaluate64(problem, Z)["test_error"])
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
            },
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
        fro_sq = float(data.b.size if data.kind == "completion" else np.sum(data.A**2))
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
