"""End-to-end check of an SVD-free ratio penalty against the exact one (100×100 rank 5).

    python bench/polar_check.py --method subspace [--rank 16] [--iterations K] [--seeds 2]
        [--lams 0.01 0.001] [--steps 50000] [--out polar.jsonl]

Depth 1, Adam lr 1e-3, the settings of bench/recovery_check.py's ``d1-adam-ratio-*`` rows:
problem seed s and initialization seed s, s = 0…seeds−1, all λs and seeds in one batch.
Prints the test error of each trial and the wall time; appends one JSON line per trial.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import algoreg as ar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="newton_schulz")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--refresh-every", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--lams", type=float, nargs="+", default=(0.01, 0.001))
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--n-obs", type=int, default=2000)
    parser.add_argument("--out", default="polar.jsonl")
    args = parser.parse_args()
    trials = [(lam, s) for lam in args.lams for s in range(args.seeds)]
    probs = [ar.problems.completion((100, 100), 5, args.n_obs, seed=s) for _, s in trials]
    pens = [
        ar.penalties.ratio(lam, args.refresh_every, args.method, args.iterations, args.rank)
        for lam, _ in trials
    ]
    t0 = time.perf_counter()
    rs = ar.fit_many(
        probs,
        ar.models.factorization(1),
        penalty=pens,
        optimizer=ar.optim.adam(1e-3),
        seeds=[s for _, s in trials],
        max_steps=args.steps,
        log_every=5000,
    )
    wall = time.perf_counter() - t0
    tag = f"{args.method}-K{args.iterations}-r{args.rank}-k{args.refresh_every}"
    for (lam, s), r in zip(trials, rs, strict=True):
        row = {
            "method": tag,
            "lam": lam,
            "seed": s,
            "test_error": r.test_error,
            "effective_rank": r.effective_rank,
            "steps": r.steps,
            "seconds": wall,
        }
        print(
            f"{tag:28s} λ={lam:g} seed {s}: test error {r.test_error:.5g} "
            f"erank {r.effective_rank:.3f} steps {r.steps}",
            flush=True,
        )
        with open(args.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")
    print(f"{tag}: {len(trials)} trials × {args.steps} steps in {wall:.0f}s", flush=True)


if __name__ == "__main__":
    main()
