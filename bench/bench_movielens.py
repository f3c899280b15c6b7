"""MovieLens-100K u1, depth-1 Adam + ratio penalty: the exact SVD gradient against SVD-light ones.

    python bench/bench_movielens.py --data path/to/ml-100k [--lam 1e-3] [--steps 1000]
                                    [--methods svd gram subspace]

Issue 7's target: depth 1 + Adam + ratio penalty on MovieLens to convergence in ≤ 10 minutes on
two cores, test RMSE within 0.005 of the exact-SVD run. Each method trains the same trial
(u1 split, 5 % of the training ratings held out for validation, init 1e-3, Adam lr 1e-2,
float32) for ``--steps`` steps, logging every ``steps/10``; the trial "converges" at its best
validation RMSE (early stopping, the preset's ``es_rmse``). Methods run one per process, two
at a time, one BLAS/XLA thread each, so each wall time is taken with the other core busy.

The table: wall time, steps/s, the best-validation step and the test RMSE there, and its
difference from the ``svd`` row (when it ran).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

from algoreg.studies.executors import pin_threads


def run(args: tuple[str, str, float, int, float, int]) -> dict:
    """One trial: (data folder, method, λ, steps, learning rate, subspace rank) → summary."""
    import numpy as np

    import algoreg as ar

    data, method, lam, steps, lr, rank = args
    problem = ar.problems.ratings(data, "u1", validation=0.05)
    t0 = time.perf_counter()
    result = ar.fit(
        problem,
        ar.models.Factorization(depth=1, init_scale=1e-3),
        penalty=ar.penalties.ratio(lam, method=method, rank=rank),
        optimizer=ar.optim.adam(lr),
        max_steps=steps,
        log_every=max(steps // 10, 1),
    )
    wall = time.perf_counter() - t0
    h = result.history
    best = int(np.nanargmin(h["val_error"]))
    return {
        "method": method if method != "subspace" else f"subspace r{rank}",
        "wall_s": wall,
        "steps_per_s": steps / wall,
        "es_step": int(h["step"][best]),
        "es_rmse": float(h["test_error"][best]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the ml-100k folder")
    parser.add_argument("--lam", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--rank", type=int, default=32, help="subspace rank")
    parser.add_argument("--methods", nargs="+", default=["svd", "gram"])
    parser.add_argument("--jobs", type=int, default=2)
    a = parser.parse_args()
    pin_threads()  # inherited by the spawned workers, which load JAX after it
    import algoreg as ar

    try:  # a bad path or option fails here (without reading the ratings), before any worker
        ar.problems.check_ratings(a.data, "u1", validation=0.05)
        for method in a.methods:
            ar.penalties.ratio(a.lam, method=method, rank=a.rank)
    except ar.errors.ConfigError as exc:
        raise SystemExit(f"bench_movielens.py: {exc}") from None
    jobs = [(a.data, m, a.lam, a.steps, a.lr, a.rank) for m in a.methods]
    with mp.get_context("spawn").Pool(min(a.jobs, len(jobs))) as pool:
        rows = pool.map(run, jobs)
    exact = next((r["es_rmse"] for r in rows if r["method"] == "svd"), None)
    print(f"MovieLens-100K u1, depth 1, Adam lr {a.lr:g}, ratio λ = {a.lam:g}, {a.steps} steps")
    print(f"{'method':<14}{'wall s':>9}{'steps/s':>9}{'es step':>9}{'es RMSE':>9}{'Δ vs svd':>10}")
    for r in rows:
        delta = "" if exact is None else f"{r['es_rmse'] - exact:+.4f}"
        print(
            f"{r['method']:<14}{r['wall_s']:>9.1f}{r['steps_per_s']:>9.2f}{r['es_step']:>9}"
            f"{r['es_rmse']:>9.4f}{delta:>10}"
        )


if __name__ == "__main__":
    main()
