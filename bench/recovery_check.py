"""Recovery figures behind the engine's acceptance notes (100×100, rank 5, 2000 observed).

    python bench/recovery_check.py [--seeds 3] [--out recovery.jsonl] [--only NAME ...]

Prints one line per setting (mean ± sd of test error over seeds, statuses, steps, time) and
appends JSON lines to ``--out``. Settings: depth 1 GD (no penalty); depth 3 GroupRMSprop and
Adam (lr 1e-3, init 1e-3, tol 1e-6, as Arora et al.'s code); depth 1 + Adam + ratio penalty
over a λ grid (and its SVD-light form, refreshing the SVD every k steps, and its SVD-free
forms, ``method="subspace"`` / ``"newton_schulz"``); depth 1 + GD + ratio penalty (the claim's
control) over learning rates and λ.
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

import numpy as np

import algoreg as ar

LAMS = (0.1, 0.03, 0.01, 0.003, 0.001)


def settings():
    f1, f3 = ar.models.factorization(1), ar.models.factorization(3)
    yield "d1-gd", f1, None, ar.optim.gd(500.0), 10_000, 1e-6
    yield "d3-grouprmsprop", f3, None, ar.optim.group_rmsprop(1e-3), 100_000, 1e-6
    yield "d3-adam", f3, None, ar.optim.adam(1e-3), 100_000, 1e-6
    for lam in LAMS:
        yield (
            f"d1-adam-ratio-{lam:g}",
            f1,
            ar.penalties.ratio(lam),
            ar.optim.adam(1e-3),
            50_000,
            0.0,
        )
    for lam in (0.01, 0.001):  # SVD-light: exact SVD every k steps (compare with the above)
        for k in (10, 100):
            pen = ar.penalties.ratio(lam, refresh_every=k)
            yield f"d1-adam-ratio-{lam:g}-k{k}", f1, pen, ar.optim.adam(1e-3), 50_000, 0.0
    for lam in (0.01, 0.001):  # SVD-free polar factors (compare with the exact rows above)
        for method, kw in (
            ("subspace", {"rank": 16}),
            ("subspace", {"rank": 8}),
            ("newton_schulz", {"iterations": 8}),
        ):
            pen = ar.penalties.ratio(lam, method=method, **kw)
            tag = f"sub{kw['rank']}" if method == "subspace" else f"ns{kw['iterations']}"
            yield f"d1-adam-ratio-{lam:g}-{tag}", f1, pen, ar.optim.adam(1e-3), 50_000, 0.0
    for lr in (50.0, 500.0):
        for lam in (0.01, 0.001):
            pen = ar.penalties.ratio(lam)
            yield f"d1-gd{lr:g}-ratio-{lam:g}", f1, pen, ar.optim.gd(lr), 50_000, 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-obs", type=int, default=2000)
    parser.add_argument("--out", default="recovery.jsonl")
    parser.add_argument("--only", nargs="*", default=None, help="setting names to run")
    args = parser.parse_args()
    probs = [ar.problems.completion((100, 100), 5, args.n_obs, seed=s) for s in range(args.seeds)]
    for name, model, penalty, opt, max_steps, tol in settings():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        rs = ar.fit_many(
            probs,
            model,
            penalty=penalty,
            optimizer=opt,
            seeds=range(args.seeds),
            max_steps=max_steps,
            tol=tol,
            log_every=5000,
        )
        err = np.array([r.test_error for r in rs])
        row = {
            "setting": name,
            "n_obs": args.n_obs,
            "test_error": err.tolist(),
            "mean": float(np.nanmean(err)),
            "sd": float(np.nanstd(err)),
            "effective_rank": [r.effective_rank for r in rs],
            "status": [r.status for r in rs],
            "steps": [r.steps for r in rs],
            "seconds": time.perf_counter() - t0,
        }
        print(
            f"{name:28s} test error {row['mean']:.3g} ± {row['sd']:.2g}  erank "
            f"{np.mean(row['effective_rank']):.2f}  {row['status']} {row['steps']} "
            f"{row['seconds']:.0f}s",
            flush=True,
        )
        with open(args.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
