"""The main job until the study runner lands: a small, honest comparison on one problem.

100×100 rank-5 completion with 2000 observed entries (Arora et al. 2019's data-poor regime),
a few seeds batched per method: depth 1 with GD (no implicit bias: unobserved entries stay at
their init), depth 3 with GroupRMSprop (Arora et al.), depth 1 + Adam + ratio penalty and
depth 1 + GD + ratio penalty (Zhao 2022's claim and its GD control).
"""

from __future__ import annotations

import time

import numpy as np

from . import models, optim, penalties, problems
from .engine import fit_many


def methods(lam: float):
    """(label, model, penalty, optimizer) for each compared method."""
    return [
        ("depth 1, GD", models.factorization(1), None, optim.gd(learning_rate=500.0)),
        ("depth 3, GroupRMSprop", models.factorization(3), None, optim.group_rmsprop(1e-3)),
        (
            f"depth 1, Adam + ratio λ={lam:g}",
            models.factorization(1),
            penalties.ratio(lam),
            optim.adam(1e-3),
        ),
        (
            f"depth 1, GD + ratio λ={lam:g}",
            models.factorization(1),
            penalties.ratio(lam),
            optim.gd(learning_rate=500.0),
        ),
    ]


def run(
    shape: tuple[int, int] = (100, 100),
    rank: int = 5,
    n_obs: int = 2000,
    n_seeds: int = 2,
    max_steps: int = 30_000,
    lam: float = 0.003,
    tol: float = 1e-6,
) -> list[dict]:
    """Train every method on ``n_seeds`` problems; print and return one row per method."""
    probs = [problems.completion(shape, rank, n_obs, seed=s) for s in range(n_seeds)]
    print(
        f"matrix completion {shape[0]}x{shape[1]}, rank {rank}, {n_obs} observed, "
        f"{n_seeds} seeds, ≤ {max_steps} steps, tol {tol:g}"
    )
    header = f"{'method':36s} {'test error (mean ± sd)':>24s} {'eff. rank':>9s}"
    print(f"{header} {'steps':>7s} {'time':>7s}")
    rows = []
    for label, model, penalty, opt in methods(lam):
        t0 = time.perf_counter()
        rs = fit_many(
            probs,
            model,
            penalty=penalty,
            optimizer=opt,
            seeds=list(range(n_seeds)),
            max_steps=max_steps,
            tol=tol,
            log_every=max(1, min(2000, max_steps)),
        )
        err = np.array([r.test_error for r in rs])
        row = {
            "method": label,
            "test_error": float(err.mean()),
            "test_error_sd": float(err.std()),
            "effective_rank": float(np.mean([r.effective_rank for r in rs])),
            "steps": float(np.mean([r.steps for r in rs])),
            "statuses": [r.status for r in rs],
            "seconds": time.perf_counter() - t0,
        }
        rows.append(row)
        print(
            f"{label:36s} {row['test_error']:>14.4g} ± {row['test_error_sd']:<8.2g}"
            f"{row['effective_rank']:>9.2f} {row['steps']:>7.0f} {row['seconds']:>6.1f}s",
            flush=True,
        )
    return rows
