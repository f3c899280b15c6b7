"""algoreg's engine against a PyTorch-eager implementation in the style of Arora et al.'s code.

    python bench/bench_reference.py [--depth 3] [--seconds 10] [--check-steps 2000]

The problem is Arora et al.'s: 100×100 rank-5 completion from 2000 observed entries, a depth-N
linear factorization of 100×100 factors from init scale 1e-3, GroupRMSprop (lr 1e-3, decay
0.99, ε 1e-4), float32. The reference does what their public code does each step, in eager
PyTorch, one trial per process: the end-to-end product, the mean squared error on the
observed entries, ``backward()``, and an optimizer step (our own GroupRMSprop in torch ops).
It is written here, not copied.

Before timing, both implementations run ``--check-steps`` steps from the same initial factors
and the script prints their train losses side by side: the two compute the same trajectory up
to float32 round-off, so the timed work is the same. Then, all with one thread per process:

1. reference, one process: steps/s;
2. algoreg, one trial in one process (``jit`` of a ``lax.scan`` chunk): steps/s, as a ratio to
   (1) and as a fraction of the FLOP floor at the single-thread matmul rate measured here;
3. algoreg on every core: one single-trial process per core, all started together, summed
   trial-steps/s, as a ratio to (1).

Targets (issue 7): (2) ≥ 4× the reference and ≥ 60 % of the floor; (3) ≥ 8× the reference.
Needs the ``torch`` extra (``pip install -e ".[torch]"``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

THREAD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
os.environ.update(THREAD_ENV)

SHAPE, RANK, N_OBS, INIT, LR = (100, 100), 5, 2000, 1e-3, 1e-3


def _algoreg_setup(depth: int, steps: int, max_steps: int):
    """The engine's compiled chunk of ``steps`` steps, its initial state and constants."""
    import algoreg as ar
    from algoreg.engine.fit import prepare_batch
    from algoreg.engine.loop import compiled_chunk

    problem = ar.problems.completion(SHAPE, RANK, N_OBS, seed=0)
    model = ar.models.factorization(depth, init_scale=INIT)
    opt = ar.optim.group_rmsprop(LR)
    state, const, template, key = prepare_batch(
        [problem], model, [None], [opt], [0], [max_steps], [0.0], "float32"
    )
    chunk = compiled_chunk(type(problem), model, template, key, steps, 1e10)
    return problem, model, chunk.lower(state, const).compile(), state, const


def algoreg_losses(depth: int, steps: int, every: int):
    """Initial factors and the train loss every ``every`` steps, from the engine."""
    import jax
    import numpy as np

    problem, model, chunk, state, const = _algoreg_setup(depth, every, steps)
    init = [np.asarray(p[0]) for p in jax.tree.leaves(state.params)]
    losses = []
    for _ in range(steps // every):
        state = chunk(state, const)
        W = model.product([p[0] for p in jax.tree.leaves(state.params)])
        losses.append(float(problem.loss(W, {k: v[0] for k, v in const.data.items()})))
    return problem, init, losses


class GroupRMSprop:
    """Arora et al.'s optimizer in torch ops: g/(√v̂ + ε), v the EMA of Σ‖g‖² over all factors."""

    def __init__(self, params, lr: float, decay: float = 0.99, eps: float = 1e-4):
        self.params, self.lr, self.decay, self.eps, self.v, self.t = params, lr, decay, eps, 0.0, 0

    def step(self) -> None:
        import torch

        with torch.no_grad():
            sq = sum(float((p.grad**2).sum()) for p in self.params)
            self.t += 1
            self.v = self.decay * self.v + (1 - self.decay) * sq
            denom = (self.v / (1 - self.decay**self.t)) ** 0.5 + self.eps
            for p in self.params:
                p.add_(p.grad, alpha=-self.lr / denom)
                p.grad = None


def reference(problem, init, steps: int, every: int | None = None):
    """Run the eager reference for ``steps`` steps; (seconds, [loss every ``every`` steps])."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    mask = torch.from_numpy(np.asarray(problem.mask))
    rows, cols = torch.nonzero(mask, as_tuple=True)
    target = torch.from_numpy(np.asarray(problem.observed, np.float32))[rows, cols]
    params = [torch.tensor(w, requires_grad=True) for w in init]
    opt = GroupRMSprop(params, LR)
    losses = []
    t = time.perf_counter()
    for i in range(1, steps + 1):
        W = params[0]
        for factor in params[1:]:
            W = factor @ W
        loss = ((W[rows, cols] - target) ** 2).mean()
        loss.backward()
        opt.step()
        if every and i % every == 0:
            losses.append(loss.item())
    return time.perf_counter() - t, losses


def _engine_rate(depth: int, seconds: float, start=None, out=None) -> float:
    """Single-trial engine steps/s over about ``seconds`` (optionally after a shared start)."""
    import jax

    steps = 2000
    _, _, chunk, state, const = _algoreg_setup(depth, steps, steps)
    jax.block_until_ready(chunk(state, const))  # warm
    if start is not None:
        start.wait()
    done, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        jax.block_until_ready(chunk(state, const))  # the same chunk again: same work
        done += steps
    rate = done / (time.perf_counter() - t)
    if out is not None:
        out.put(rate)
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0, help="timing window per measurement")
    ap.add_argument("--check-steps", type=int, default=2000)
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SystemExit('bench_reference.py needs PyTorch: pip install -e ".[torch]"') from None

    from algoreg.benchmark import matmul_gflops, model_flops

    every = max(args.check_steps // 4, 1)
    problem, init, ours = algoreg_losses(args.depth, args.check_steps, every)
    _, theirs = reference(problem, init, args.check_steps, every)
    print(f"same start, train loss every {every} steps (algoreg | reference):")
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True), 1):
        print(f"  step {i * every:>6}: {a:.6e} | {b:.6e}  (rel. diff {abs(a - b) / b:.1e})")

    n_ref = 200
    dt, _ = reference(problem, init, n_ref)  # warm-up, and sizes the timed run
    n_ref = max(n_ref, int(args.seconds * n_ref / dt))
    ref = n_ref / reference(problem, init, n_ref)[0]
    one = _engine_rate(args.depth, args.seconds)
    gflops = matmul_gflops(max(SHAPE))
    floor = gflops * 1e9 / model_flops(args.depth, SHAPE)

    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(args.procs), ctx.Queue()
    procs = [
        ctx.Process(target=_engine_rate, args=(args.depth, args.seconds, start, out))
        for _ in range(args.procs)
    ]
    for p in procs:
        p.start()
    rates = [out.get() for _ in procs]
    for p in procs:
        p.join()
    both = sum(rates)

    print(f"depth {args.depth}, {SHAPE[0]}x{SHAPE[1]}, {N_OBS} observed, GroupRMSprop, float32")
    print(f"single-thread float32 matmul: {gflops:.1f} GFLOP/s -> floor {floor:.0f} steps/s")
    print(f"reference (torch eager, 1 process):  {ref:8.0f} steps/s")
    print(
        f"algoreg (1 trial, 1 process):        {one:8.0f} steps/s  = {one / ref:.2f}x reference,"
        f" {one / floor:.0%} of floor"
    )
    print(
        f"algoreg ({args.procs} processes, 1 trial each): {both:8.0f} trial-steps/s"
        f" = {both / ref:.2f}x reference"
    )


if __name__ == "__main__":
    main()
