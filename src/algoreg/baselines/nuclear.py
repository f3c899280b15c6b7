"""Exact nuclear-norm minimization with cvxpy + SCS (the convex baseline).

For an observation operator 𝒜 with data b (completion: 𝒜(X) = X restricted to Ω, b = M_Ω;
sensing: 𝒜(X)_k = ⟨A_k, X⟩, b = y) three forms are solved:

- equality (``delta=0``, ``lam=None``):   min ‖X‖_*  s.t.  𝒜(X) = b
- tolerance (``delta>0``):                min ‖X‖_*  s.t.  |𝒜(X)_k − b_k| ≤ δ for every k
  (Arora et al. 2019 use δ = 1e-3)
- penalized (``lam>0``):                  min ½‖𝒜(X) − b‖² + λ‖X‖_*

The tolerance form is much slower for SCS than the other two (measured at 100×100, rank 5,
5000 entries: 1 s for equality; 95 s for δ = 1e-3 at eps 1e-6, while at eps 1e-4 the returned
X overshoots δ by ~2×, since SCS's feasibility tolerance is then comparable to δ).

An equality-form solve of a problem whose truth W* is known and feasible (noiseless data) also
reports ``nuclear_gap`` = (‖X‖_* − ‖W*‖_*)/‖W*‖_*. A gap below zero (beyond the solver's
tolerance) proves that W* is not the minimum-nuclear-norm solution: a recovery error is then
nuclear-norm minimization failing on the instance, not the solver stopping short.

cvxpy rewrites ‖X‖_* as a semidefinite program with an (m+n)×(m+n) PSD block. SCS (a
first-order conic solver) handles it at 100×100 and 200×200 in seconds; interior-point
solvers such as Clarabel run out of memory beyond ~50×50, so only SCS is used. cvxpy is an
optional extra (``pip install algoreg[baselines]``) and is imported only when a solve runs.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from ..engine import FitResult
from ..errors import ConfigError, ConvergenceWarning, check_bool, check_int, check_real
from ..problems import Problem
from .base import LinearData, SolverError, blas_limit, linear_data, make_result

SOLVER = "SCS"


def _import_cvxpy():
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "nuclear_norm needs cvxpy and SCS: pip install 'algoreg[baselines]'"
        ) from exc
    return cp


def _forward(cp, X, data: LinearData):
    if data.kind == "completion":
        return X[data.rows, data.cols]
    return data.A @ cp.vec(X, order="C")


def check_nuclear_norm(
    *,
    lam: Any,
    delta: Any,
    eps_abs: Any,
    eps_rel: Any,
    max_iters: Any,
    seed: Any,
    accept_inaccurate: Any = False,
    verbose: Any = False,
    **_: Any,
) -> dict:
    """:func:`nuclear_norm`'s settings, checked without a problem (a study checks them at
    load)."""
    check_bool("accept_inaccurate", accept_inaccurate)
    check_bool("verbose", verbose)
    lam = None if lam is None else check_real("lam", lam, low=0.0, low_open=True)
    delta = check_real("delta", delta, low=0.0)
    if lam is not None and delta > 0:
        raise ConfigError("give either lam (penalized form) or delta (tolerance form), not both")
    return {
        "lam": lam,
        "delta": delta,
        "eps_abs": check_real("eps_abs", eps_abs, low=0.0, low_open=True),
        "eps_rel": check_real("eps_rel", eps_rel, low=0.0, low_open=True),
        "max_iters": check_int("max_iters", max_iters, low=1),
        "seed": check_int("seed", seed, low=0),
    }


def nuclear_norm(
    problem: Problem,
    *,
    lam: float | None = None,
    delta: float = 0.0,
    eps_abs: float = 1e-6,
    eps_rel: float = 1e-6,
    max_iters: int = 100_000,
    accept_inaccurate: bool = False,
    verbose: bool = False,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """Nuclear-norm minimization of a completion or sensing problem (see the module docstring).

    ``eps_abs``/``eps_rel`` are SCS's primal/dual residual and gap tolerances and
    ``max_iters`` its iteration limit. The solver status is checked: anything but
    ``optimal`` raises :class:`SolverError` (with the solver name and status), except that
    with ``accept_inaccurate=True`` an ``optimal_inaccurate`` solve is returned with
    status ``"max_steps"`` and a :class:`~algoreg.errors.ConvergenceWarning`. ``seed`` is
    recorded only (the solve is deterministic); ``blas_threads`` caps BLAS threads during the
    solve (None: no cap).
    """
    lam, delta, eps_abs, eps_rel, max_iters, seed = check_nuclear_norm(
        lam=lam,
        delta=delta,
        eps_abs=eps_abs,
        eps_rel=eps_rel,
        max_iters=max_iters,
        seed=seed,
        accept_inaccurate=accept_inaccurate,
        verbose=verbose,
    ).values()
    data = linear_data(problem, "nuclear_norm", sensing=True)
    cp = _import_cvxpy()

    with blas_limit(blas_threads):
        t0 = time.perf_counter()
        X = cp.Variable(data.shape)
        residual = _forward(cp, X, data) - data.b
        if lam is not None:
            form = "penalized"
            prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(residual) + lam * cp.normNuc(X)))
        elif delta > 0:
            form = "tolerance"
            prob = cp.Problem(cp.Minimize(cp.normNuc(X)), [cp.abs(residual) <= delta])
        else:
            form = "equality"
            prob = cp.Problem(cp.Minimize(cp.normNuc(X)), [residual == 0])
        try:
            with warnings.catch_warnings():
                # cvxpy's generic "Solution may be inaccurate": the status is handled below
                warnings.filterwarnings("ignore", "Solution may be inaccurate", UserWarning)
                prob.solve(
                    solver=cp.SCS,
                    eps_abs=eps_abs,
                    eps_rel=eps_rel,
                    max_iters=max_iters,
                    verbose=verbose,
                )
        except cp.error.SolverError as exc:
            raise SolverError(SOLVER, "solver_error", str(exc)) from exc
        wall = time.perf_counter() - t0

        status = prob.status
        stats = prob.solver_stats
        iters = int(stats.num_iters) if stats is not None and stats.num_iters is not None else 0
        ok = status == cp.OPTIMAL
        if not ok and not (accept_inaccurate and status == cp.OPTIMAL_INACCURATE):
            raise SolverError(
                SOLVER,
                status,
                f"{form} nuclear-norm problem of shape {data.shape} after {iters} iterations "
                f"(eps_abs={eps_abs:g}, eps_rel={eps_rel:g}, max_iters={max_iters})",
            )
        if X.value is None:
            raise SolverError(SOLVER, status, "no solution value was returned")
        if not ok:
            warnings.warn(
                f"nuclear_norm: SCS stopped after {iters} iterations with status {status!r} "
                f"(eps_abs={eps_abs:g}, eps_rel={eps_rel:g}, max_iters={max_iters})",
                ConvergenceWarning,
                stacklevel=2,
            )
        matrix = np.asarray(X.value, dtype=np.float64)
        solve_time = stats.solve_time if stats is not None and stats.solve_time else np.nan
        result = make_result(
            problem,
            matrix,
            kind="nuclear_norm",
            converged=ok,
            steps=iters,
            objective=float(prob.value),
            history={
                "step": [iters],
                "objective": [float(prob.value)],
                "solve_time": [float(solve_time)],
            },
            wall_time=wall,
            seed=seed,
            params={
                "form": form,
                "lam": lam,
                "delta": delta,
                "solver": SOLVER,
                "solver_status": status,
                "eps_abs": eps_abs,
                "eps_rel": eps_rel,
                "max_iters": max_iters,
            },
        )
    if form == "equality":
        result.metrics.update(_truth_gap(problem, data, result.metrics["nuclear_norm"]))
    return result


def _truth_gap(problem: Problem, data: LinearData, norm: float) -> dict[str, float]:
    """``nuclear_gap`` of a solution of nuclear norm ``norm`` (see the module docstring); empty
    when the truth is unknown or infeasible (noisy observations)."""
    truth = problem.known_truth()
    if truth is None:
        return {}
    residual = np.linalg.norm(data.forward(truth) - data.b)
    if residual > 1e-9 * max(float(np.linalg.norm(data.b)), 1e-300):
        return {}
    ref = float(np.linalg.svd(truth, compute_uv=False).sum())
    return {"nuclear_gap": (norm - ref) / ref} if ref > 0 else {}
