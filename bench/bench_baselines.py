"""Wall time of each baseline at 100×100 and 200×200 (rank 5, a sample size where all recover).

    python bench/bench_baselines.py [--sizes 100 200] [--rank 5] [--fraction 0.5 0.3]
                                    [--repeats 1] [--delta]

One row per (baseline, size): wall time (the minimum over ``--repeats`` runs), iterations,
relative error on the unobserved entries and status. ``--delta`` adds nuclear-norm
minimization in Arora et al.'s tolerance form (|X_ij − M_ij| ≤ 1e-3), which SCS solves far
more slowly than the equality form. Threads are pinned to one (set before NumPy/JAX start),
as in every algoreg worker process; the baselines also cap BLAS threads themselves.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import algoreg as ar
from algoreg import baselines as bl
from algoreg.errors import ConvergenceWarning


def methods(rank: int, delta: bool) -> list[tuple[str, str, dict]]:
    rows = [
        ("nuclear_norm", "nuclear_norm", {}),
        ("soft_impute", "soft_impute", {}),
        ("svt", "svt", {}),
        ("hard_impute", "hard_impute", {"rank": rank}),
    ]
    if delta:
        rows.insert(1, ("nuclear_norm δ=1e-3", "nuclear_norm", {"delta": 1e-3}))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 200])
    ap.add_argument("--rank", type=int, default=5)
    ap.add_argument(
        "--fraction",
        type=float,
        nargs="+",
        default=[0.5, 0.3],
        help="observed fraction per size (last one repeats)",
    )
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--delta", action="store_true")
    args = ap.parse_args()

    warnings.simplefilter("ignore", ConvergenceWarning)  # the status column reports it
    # warm up cvxpy's import and JAX's metric programs outside the timings
    bl.solve(ar.problems.completion((10, 10), 1, 60), "nuclear_norm")
    header = f"{'baseline':<22}{'shape':>10}{'n_obs':>8}{'wall s':>9}{'iters':>8}"
    print(header + f"{'test_error':>12}  status")
    print("-" * (len(header) + 20))
    for i, n in enumerate(args.sizes):
        frac = args.fraction[min(i, len(args.fraction) - 1)]
        n_obs = round(frac * n * n)
        problem = ar.problems.completion((n, n), args.rank, n_obs, seed=0)
        bl.solve(problem, "soft_impute", max_iters=1)  # compile the metrics for this shape
        for label, kind, params in methods(args.rank, args.delta):
            best = None
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                r = bl.solve(problem, kind, **params)
                wall = time.perf_counter() - t0
                best = wall if best is None else min(best, wall)
            print(
                f"{label:<22}{f'{n}×{n}':>10}{n_obs:>8}{best:>9.2f}{r.steps:>8}"
                f"{r.test_error:>12.2e}  {r.status}",
                flush=True,
            )


if __name__ == "__main__":
    main()
