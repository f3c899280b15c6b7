"""Engine throughput table (a thin wrapper of :func:`algoreg.benchmark.run_bench`).

    python bench/bench_engine.py [--quick] [--sizes 100x100 943x1682] [--depths 1 3]
        [--optimizers gd adam] [--penalties none svd newton_schulz gram subspace]
        [--batches 1 16 64]
        [--iterations 8] [--rank 16]

steps/s for each size × depth × optimizer × batch size, with and without the ratio penalty,
as a fraction of the FLOP floor at this machine's single-thread matmul rate (measured in the
same run), compile time and program memory. Threads are pinned to one before JAX starts.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

from algoreg.benchmark import format_table, run_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", nargs="*", default=None, help="e.g. 100x100 943x1682")
    parser.add_argument("--depths", type=int, nargs="*", default=None)
    parser.add_argument("--optimizers", nargs="*", default=None, choices=("gd", "adam"))
    parser.add_argument("--penalties", nargs="*", default=None)
    parser.add_argument("--batches", type=int, nargs="*", default=None)
    parser.add_argument("--iterations", type=int, default=8, help="Newton–Schulz steps")
    parser.add_argument("--rank", type=int, default=16, help="subspace method's rank")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes] if args.sizes else None
    rows = run_bench(
        quick=args.quick,
        sizes=sizes,
        depths=args.depths,
        optimizers=args.optimizers,
        penalties=args.penalties,
        batches=args.batches,
        iterations=args.iterations,
        rank=args.rank,
        progress=lambda r: print(
            f"  {r['size']} N={r['depth']} {r['optimizer']} {r['penalty']} B={r['B']}: "
            f"{r['steps_per_s']:.0f} trial-steps/s",
            flush=True,
        ),
    )
    print(format_table(rows))


if __name__ == "__main__":
    main()
