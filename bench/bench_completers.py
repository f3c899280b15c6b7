"""Every completer's default on MovieLens-100K u1: wall time (issue 29's target: ≤ 5 minutes on
one core each) and the test RMSE of the filled-in matrix on u1.test.

    python bench/bench_completers.py --data path/to/ml-100k [--only SoftImputeCompleter ...]

Each completer fits the 943 × 1682 matrix of u1.base (NaN where unrated) with its defaults
(``center=True``, per-item means, for all: ratings have large item offsets), one BLAS thread,
in this process, one after another; the table: seconds, steps/iterations, the method the
default picked, and the RMSE of the completed matrix, clipped to [1, 5], on u1.test.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from algoreg.datasets import split_movielens100k
from algoreg.estimators import (
    DeepFactorizationCompleter,
    NuclearNormCompleter,
    SoftImputeCompleter,
)

COMPLETERS = {
    c.__name__: c for c in (SoftImputeCompleter, NuclearNormCompleter, DeepFactorizationCompleter)
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the ml-100k folder")
    parser.add_argument("--only", nargs="+", choices=sorted(COMPLETERS), default=list(COMPLETERS))
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    train, test = split_movielens100k(args.data, "u1")
    X = np.full(train.shape, np.nan)
    X[train.users, train.items] = train.values
    print(f"{'completer':28s} {'seconds':>8s} {'steps':>6s} {'method':>12s} {'u1 RMSE':>8s}")
    for name in args.only:
        est = COMPLETERS[name](center=True)
        t0 = time.perf_counter()
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            Z = est.fit_transform(X)
        seconds = time.perf_counter() - t0
        pred = np.clip(Z[test.users, test.items], 1, 5)
        rmse = float(np.sqrt(np.mean((pred - test.values) ** 2)))
        r = est.result_
        method = r.config.get("kind", "")
        print(f"{name:28s} {seconds:8.1f} {r.steps:6d} {method:>12s} {rmse:8.4f}", flush=True)


if __name__ == "__main__":
    main()
