"""CARP, CARP-VIZ and the exact path on the three clustering data sets, with clustRviz's
figures (issue 28) beside them.

    python bench/bench_carp.py [--data ../shared/data/clustering] [--t 1.05] [--repeats 3]
                               [--tol 1e-7] [--no-exact] [--cbass-t 1.01] [--no-cbass]

One row per (data set, method): solver time (median over ``--repeats``; the factorization
included, the weights excluded and timed apart), ADMM iterations, kept iterates, merges that
shared a level with another, and the exact mode's time over CARP's, measured in the same run.
clustRviz's figures were measured on this kind of machine with its compiled core (solver
time only, default settings, medians of 3; the same fit varied up to 7× between passes on the
shared cores): compare ratios, not seconds. BLAS is pinned to one thread.

Then CBASS (convex biclustering, :mod:`algoreg.clustering.bicluster`) on presidential speech
at ``--cbass-t`` (the paper's 1.01) against its exact mode on the same γ grid, beside
clustRviz's CBASS (0.81 s / 2644 iterations; exact 71 s, issue 28).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from algoreg.clustering import carp, check_data, exact_path, gaussian_knn_weights, preprocess
from algoreg.clustering.bicluster import balanced_weights, bicluster_path, center_global
from algoreg.clustering.data import read_csv

# clustRviz (seconds, iterations) at t = 1.05, quoted in issue 28
CLUSTRVIZ = {
    "blobs": {"carp": (0.058, 410), "exact": (1.16, None), "carp-viz": (0.69, None)},
    "iris": {"carp": (0.28, 419), "exact": (6.35, None), "carp-viz": (18.2, None)},
    "presidential_speech": {"carp": (0.095, 445), "exact": (1.34, None), "carp-viz": (0.25, None)},
}
CLUSTRVIZ_CBASS = {"cbass": (0.81, 2644), "exact": (71.0, None)}  # presidential speech, t = 1.01


def fit(method: str, X: np.ndarray, graph, t: float, tol: float):
    if method == "exact":
        return exact_path(X, graph, t=t, tol=tol)
    return carp(X, graph, t=t, back_track=method == "carp-viz")


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "clustering"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default)
    ap.add_argument("--t", type=float, default=1.05)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-7, help="the exact mode's tolerance")
    ap.add_argument("--no-exact", action="store_true")
    ap.add_argument("--cbass-t", type=float, default=1.01)
    ap.add_argument("--no-cbass", action="store_true")
    args = ap.parse_args()
    methods = ["carp", "carp-viz"] + ([] if args.no_exact else ["exact"])
    print(f"t = {args.t}, exact tol = {args.tol}, median of {args.repeats}")
    head = (
        f"{'data':20s} {'n×p':>7s} {'method':9s} {'time':>9s} {'iters':>7s} {'kept':>5s} "
        f"{'tied':>5s} {'÷carp':>6s} | {'clustRviz':>9s} {'iters':>6s} {'÷carp':>6s}"
    )
    print(head)
    for name in CLUSTRVIZ:
        X = preprocess(check_data(read_csv(args.data / f"{name}.csv")[0]))
        start = time.perf_counter()
        graph = gaussian_knn_weights(X)
        weights_s = time.perf_counter() - start
        shape = f"{X.shape[0]}×{X.shape[1]}"
        times = {}
        for method in methods:
            runs = [fit(method, X, graph, args.t, args.tol) for _ in range(args.repeats)]
            times[method] = statistics.median(r.seconds for r in runs)
            path = runs[0]
            tied = int(np.sum(np.unique(path.linkage[:, 2], return_counts=True)[1] > 1))
            ref_s, ref_it = CLUSTRVIZ[name][method]
            ratio = times[method] / times["carp"]
            ref_ratio = ref_s / CLUSTRVIZ[name]["carp"][0]
            print(
                f"{name:20s} {shape:>7s} {method:9s} {times[method]:8.4f}s {path.n_iter:7d} "
                f"{len(path.gammas):5d} {tied:5d} {ratio:6.1f} | {ref_s:8.3f}s "
                f"{ref_it or '':>6} {ref_ratio:6.1f}"
            )
        print(
            f"{'':20s} {'':>7s} {'weights':9s} {weights_s:8.4f}s  (phi={graph.phi:g}, "
            f"k={graph.k}, {graph.n_edges} edges)"
        )
    if not args.no_cbass:
        bench_cbass(args)


def bench_cbass(args) -> None:
    """CBASS and its exact mode on presidential speech (rows and columns)."""
    X = center_global(check_data(read_csv(args.data / "presidential_speech.csv")[0]))
    rows, cols = balanced_weights(X)
    shape = f"{X.shape[0]}×{X.shape[1]}"
    print(f"\nCBASS, t = {args.cbass_t}: row k={rows.k}, column k={cols.k}")
    times = {}
    for method in ["cbass"] + ([] if args.no_exact else ["exact"]):
        repeats = args.repeats if method == "cbass" else 1
        runs = [
            bicluster_path(X, rows, cols, method=method, t=args.cbass_t, tol=args.tol)
            for _ in range(repeats)
        ]
        times[method] = statistics.median(r.seconds for r in runs)
        ref_s, ref_it = CLUSTRVIZ_CBASS[method]
        ratio = times[method] / times["cbass"]
        ref_ratio = ref_s / CLUSTRVIZ_CBASS["cbass"][0]
        print(
            f"{'presidential_speech':20s} {shape:>7s} {method:9s} {times[method]:8.4f}s "
            f"{runs[0].n_iter:7d} {len(runs[0].gammas):5d} {'':>5s} {ratio:6.1f} | "
            f"{ref_s:8.3f}s {ref_it or '':>6} {ref_ratio:6.1f}"
        )


if __name__ == "__main__":
    main()
