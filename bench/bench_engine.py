"""Engine throughput: steps/s for depth 1 and 3, with and without the ratio penalty, one trial
and a batch of 16 — plus this machine's single-thread matmul rate, so every figure can be read
as a fraction of its FLOP floor and as ratios measured in one run.

    python bench/bench_engine.py [--steps 2000] [--shape 100 100] [--batch 16]

Threads are pinned to one (set before JAX starts), as in every algoreg worker process.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax

import algoreg as ar


def matmul_gflops(n: int, reps: int = 2000) -> float:
    """Single-thread float32 n×n matmul rate, measured inside one jitted loop."""
    a = jax.random.normal(jax.random.key(0), (n, n)) / n

    @jax.jit
    def loop(x):
        return jax.lax.fori_loop(0, reps, lambda _, y: a @ y, x)

    jax.block_until_ready(loop(a))
    t = time.perf_counter()
    jax.block_until_ready(loop(a))
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


def step_flops(depth: int, shape: tuple[int, int]) -> float:
    """Matmul FLOPs of one step of a depth-N factorization (width = max(m, n)).

    Forward: N−1 products; backward: two per factor pair — about 3(N−1) products in all.
    """
    m, n = shape
    w = max(shape)
    if depth == 1:
        return 0.0
    return 3 * (depth - 1) * 2 * m * w * n


def time_fit(problems, depth, penalty, steps):
    model = ar.models.factorization(depth)
    kw = dict(penalty=penalty, optimizer=ar.optim.adam(1e-3), max_steps=steps, log_every=steps)
    t = time.perf_counter()
    ar.fit_many(problems, model, **kw)  # compile + run
    first = time.perf_counter() - t
    t = time.perf_counter()
    ar.fit_many(problems, model, **kw)
    run = time.perf_counter() - t
    return run, max(first - run, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--shape", type=int, nargs=2, default=(100, 100))
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    shape = tuple(args.shape)
    gflops = matmul_gflops(max(shape))
    print(f"device: {jax.devices()[0].device_kind}; single-thread matmul {gflops:.1f} GFLOP/s")
    print(
        f"{'depth':>5} {'penalty':>8} {'B':>3} {'trial-steps/s':>14} {'vs B=1':>7} "
        f"{'vs no pen.':>10} {'of floor':>9} {'compile s':>9}"
    )
    base: dict[tuple, float] = {}
    for depth in (1, 3):
        for pen_name in ("none", "ratio"):
            penalty = ar.penalties.ratio(1e-3) if pen_name == "ratio" else None
            steps = args.steps if penalty is None else max(args.steps // 4, 50)
            for B in (1, args.batch):
                probs = [ar.problems.completion(shape, 5, 2000, seed=s) for s in range(B)]
                run, compile_s = time_fit(probs, depth, penalty, steps)
                rate = B * steps / run
                base[(depth, pen_name, B)] = rate
                flops = step_flops(depth, shape)
                of_floor = f"{rate * flops / (gflops * 1e9):.0%}" if flops else "-"
                vs_b1 = rate / base[(depth, pen_name, 1)]
                vs_np = rate / base[(depth, "none", B)]
                print(
                    f"{depth:>5} {pen_name:>8} {B:>3} {rate:>14.0f} {vs_b1:>7.2f} "
                    f"{vs_np:>10.2f} {of_floor:>9} {compile_s:>9.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
