"""One training step (loss + exact ratio penalty + Adam), dense SVD vs factored exact, one core.

    python bench/bench_factored.py [--quick] [--only A B C] [--k 20 40]

Every configuration runs in its own subprocess pinned to one core (BLAS, XLA and numba single
threaded), which reports its step time (best of ``--repeats`` jitted chunks, after a warm-up,
or one AOT-compiled step where a step takes minutes) and its peak resident memory
(``getrusage``'s ``ru_maxrss``: data generation included). Rows:

- A. 943 × 1682 (MovieLens-100K's shape), rank-10 truth, 80,000 observed, width k = 64:
  ``dense SVD`` = model asymmetric F Gᵀ on dense masks, the ratio penalty by an SVD of the
  943 × 1682 product every step (the path RatioPenaltyCompleter took); ``factored, dense
  masks`` = model factored (penalty from the k × k QR cores) on the same dense problem;
  ``factored, sparse`` = the same on index arrays (never forms W). Ratios in one run.
- B. 10⁴ × 10⁴, 10⁶ observed, k = 64: the same three (the dense-SVD step is timed once).
- C. 10⁵ × 10⁵, rank 10, 10⁷ observed: factored sparse at each ``--k`` (data drawn without a
  dense mask); the dense paths would need 40 GB per m × n array and are not run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def child(spec: dict) -> dict:
    """Build the problem, compile the engine's step, time it; runs in a fresh process."""
    import resource

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import jax

    import algoreg as ar
    from algoreg.engine.fit import prepare_batch
    from algoreg.engine.loop import compiled_chunk
    from algoreg.problems import SparseCompletionProblem

    t0 = time.perf_counter()
    m, n = spec["shape"]
    if spec["storage"] == "dense":
        truth = ar.problems.low_rank((m, n), spec["rank"], 0)
        mask = ar.problems.uniform_mask((m, n), spec["n_obs"], 1)
        problem = ar.problems.CompletionProblem(truth, mask)
        del truth, mask
    elif m * n <= 2**26:  # the same observations as the dense rows
        dense = ar.problems.CompletionProblem(
            ar.problems.low_rank((m, n), spec["rank"], 0),
            ar.problems.uniform_mask((m, n), spec["n_obs"], 1),
        )
        problem = SparseCompletionProblem.from_dense(dense)
        del dense
    else:
        problem = ar.problems.sparse_completion((m, n), spec["rank"], spec["n_obs"], seed=0)
    build = time.perf_counter() - t0
    model = ar.models.get(spec["model"], rank=spec["k"], init_scale=1e-2)
    penalty = ar.penalties.ratio(1e-2)
    optimizer = ar.optim.adam(learning_rate=1e-3)
    steps = spec["steps"]
    state, const, template, opt_key = prepare_batch(
        [problem], model, [penalty], [optimizer], [0], [10**9], [0.0], "float32"
    )
    chunk = compiled_chunk(type(problem), model, template, opt_key, steps, 1e10)
    t1 = time.perf_counter()
    compiled = chunk.lower(state, const).compile()  # AOT: no step runs while compiling
    compile_s = time.perf_counter() - t1
    times = []
    for _ in range(spec["repeats"]):
        t = time.perf_counter()
        state = jax.block_until_ready(compiled(state, const))
        times.append((time.perf_counter() - t) / steps)
    return {
        **spec,
        "step_s": min(times),
        "build_s": build,
        "compile_s": compile_s,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def run(spec: dict) -> dict:
    """:func:`child` in a subprocess (its own peak memory), pinned to one core."""
    env = {**os.environ, **ENV}
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{spec['label']} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def configs(args) -> list[dict]:
    rows = []
    for case, shape, n_obs, dense_steps, dense_repeats in (
        ("A", (943, 1682), 80_000, 3, 3),
        ("B", (10_000, 10_000), 1_000_000, 1, 1),
    ):
        if case not in args.only:
            continue
        common = {"case": case, "shape": shape, "rank": 10, "n_obs": n_obs, "k": 64}
        rows += [
            {**common, "label": "dense SVD", "model": "asymmetric", "storage": "dense",
             "steps": dense_steps, "repeats": dense_repeats},
            {**common, "label": "factored, dense masks", "model": "factored",
             "storage": "dense", "steps": 5 if case == "A" else 2, "repeats": 3},
            {**common, "label": "factored, sparse", "model": "factored", "storage": "sparse",
             "steps": 20, "repeats": 3},
        ]  # fmt: skip
    if "C" in args.only:
        for k in args.k:
            rows.append(
                {"case": "C", "shape": (100_000, 100_000), "rank": 10, "n_obs": 10_000_000,
                 "k": k, "label": f"factored, sparse k={k}", "model": "factored",
                 "storage": "sparse", "steps": 3, "repeats": 3}
            )  # fmt: skip
    if args.quick:  # smaller stand-ins, to check the script itself
        for r in rows:
            r["shape"] = tuple(s // 10 for s in r["shape"])
            r["n_obs"] //= 100
            r["k"] = min(r["k"], 16)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--only", nargs="+", default=["A", "B", "C"], choices=["A", "B", "C"])
    ap.add_argument("--k", type=int, nargs="+", default=[20, 40])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: check the script")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    print(f"{'case':<5}{'shape':>16}{'|Ω|':>11}{'k':>4}  {'method':<24}{'s/step':>10}"
          f"{'peak GB':>9}{'speedup':>9}", flush=True)  # fmt: skip
    base: dict[str, float] = {}
    for spec in configs(args):
        r = run(spec)
        if r["label"] == "dense SVD":
            base[r["case"]] = r["step_s"]
        ratio = base.get(r["case"], float("nan")) / r["step_s"]
        shape = "×".join(map(str, r["shape"]))
        print(f"{r['case']:<5}{shape:>16}{r['n_obs']:>11}{r['k']:>4}  {r['label']:<24}"
              f"{r['step_s']:>10.4f}{r['peak_rss_gb']:>9.2f}{ratio:>9.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
