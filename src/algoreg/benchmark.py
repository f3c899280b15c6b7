"""Engine throughput: trial-steps/s of the compiled training chunk, as a table.

One row per configuration — matrix size, depth, optimizer (GD or Adam), penalty (none, or the
ratio penalty ‖W‖_*/‖W‖_F with its polar factor by SVD or by Newton–Schulz), batch size B —
with the trial-steps/s (B × steps / wall time of the compiled chunk, compile excluded), the
ratio to the penalty-free row of the same size, depth, optimizer and B (measured in the same
run), the FLOP floor of one step and the fraction of it reached at this machine's
single-thread float32 matmul rate (also measured in the same run, per size), the compile
time, and the compiled program's memory (arguments + outputs + temporaries, as XLA reports
it). Problems are synthetic rank-5 completion problems (100×100 with 2000 observed entries;
943×1682 — MovieLens-100K's shape — with 80 000), so no data files are needed.

FLOP floors count matmul FLOPs only (elementwise work is memory-bound and not counted):
the factorization's forward product and its two backward products per factor pair,
3·Σ_i 2·rows_i·w·n; for the penalty, on the smaller side k ≤ l of W, the SVD's
Golub–Van Loan R-SVD count 6lk² + 20k³ plus 2lk² for UVᵀ; Newton–Schulz K·(4k²l + 2k³);
Gram + eigh 2k²l + 9k³ + 4k²l. A depth-1 penalty-free step has no matmul: no floor ("-").

Threads: call with OPENBLAS_NUM_THREADS=1 and XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1" set before JAX starts (``bench/bench_engine.py`` does), as in
every algoreg worker process; the figures are then single-thread.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from .errors import unknown_name

SMALL = (100, 100)
LARGE = (943, 1682)
PENALTY_LABELS = ("none", "svd", "newton_schulz", "gram", "subspace")


def matmul_gflops(n: int, seconds: float = 0.3) -> float:
    """This machine's float32 n×n matmul rate (GFLOP/s), inside one jitted loop (best of 3)."""
    a = jax.random.normal(jax.random.key(0), (n, n)) / n

    loop = jax.jit(lambda x, reps: jax.lax.fori_loop(0, reps, lambda _, y: a @ y, x))

    def rate(reps: int) -> tuple[float, float]:
        jax.block_until_ready(loop(a, reps))
        t = time.perf_counter()
        jax.block_until_ready(loop(a, reps))
        dt = time.perf_counter() - t
        return 2 * n**3 * reps / dt / 1e9, dt

    g, _ = rate(max(1, int(2e8 // n**3)))
    reps = max(1, int(seconds * g * 1e9 / (2 * n**3)))
    return max(g, *(rate(reps)[0] for _ in range(3)))  # best of three: a busy box only slows


def model_flops(depth: int, shape: tuple[int, int], width: int | None = None) -> float:
    """Matmul FLOPs of one step of a depth-N linear factorization (forward + backward): its
    :meth:`~algoreg.models.Factorization.step_flops`."""
    from .models import factorization

    return factorization(depth, width).step_flops(shape)


def penalty_flops(
    method: str | None, shape: tuple[int, int], iterations: int = 8, rank: int = 16
) -> float:
    """Matmul-equivalent FLOPs of one ratio-penalty gradient by ``method`` (see module notes)."""
    k, l_ = sorted(shape)
    if method is None or method == "none":
        return 0.0
    if method == "svd":
        return 6 * l_ * k**2 + 20 * k**3 + 2 * l_ * k**2
    if method == "newton_schulz":
        return iterations * (4 * k**2 * l_ + 2 * k**3)
    if method == "gram":
        return 2 * k**2 * l_ + 9 * k**3 + 4 * k**2 * l_
    if method == "subspace":
        return 6 * k * l_ * min(rank, k)
    raise ValueError(f"unknown method {method!r}")


def _penalty(label: str, iterations: int, rank: int):
    import algoreg as ar

    if label == "none":
        return None
    k = None if label == "subspace" else iterations
    return ar.penalties.ratio(1e-3, method=label, iterations=k, rank=rank)


def _problems(shape: tuple[int, int], B: int):
    import algoreg as ar

    n_obs = 2000 if shape == SMALL else max(1, int(0.05 * shape[0] * shape[1]))
    return [ar.problems.completion(shape, 5, n_obs, seed=s) for s in range(B)]


def _program_bytes(compiled) -> float | None:
    try:
        ma = compiled.memory_analysis()
        return float(
            ma.argument_size_in_bytes
            + ma.output_size_in_bytes
            + ma.temp_size_in_bytes
            - ma.alias_size_in_bytes
        )
    except Exception:  # not every backend reports it
        return None


def time_config(
    shape: tuple[int, int],
    depth: int,
    optimizer: str,
    penalty: str,
    B: int,
    steps: int,
    iterations: int = 8,
    rank: int = 16,
) -> dict:
    """Compile and time ``steps`` steps of one batched configuration; one table row."""
    import algoreg as ar
    from algoreg.engine.fit import prepare_batch
    from algoreg.engine.loop import compiled_chunk

    problems = _problems(shape, B)
    model = ar.models.factorization(depth)
    opt = ar.optim.adam(1e-3) if optimizer == "adam" else ar.optim.gd(1.0)
    pen = _penalty(penalty, iterations, rank)
    state, const, template, opt_key = prepare_batch(
        problems, model, [pen] * B, [opt] * B, list(range(B)), [steps] * B, [0.0] * B, "float32"
    )
    problem_cls: Any = type(problems[0])
    chunk = compiled_chunk(problem_cls, model, template, opt_key, steps, 1e10)
    t = time.perf_counter()
    compiled = chunk.lower(state, const).compile()
    compile_s = time.perf_counter() - t
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        out = jax.block_until_ready(compiled(state, const))
        run = time.perf_counter() - t
        best = min(best, run)
        if run > 2.0:  # long enough to be stable; do not pay for it twice
            break
    taken = int(jnp.sum(out.step))
    flops = model_flops(depth, shape) + penalty_flops(penalty, shape, iterations, rank)
    label = {"newton_schulz": f"ns{iterations}", "subspace": f"sub{rank}"}.get(penalty, penalty)
    return {
        "size": f"{shape[0]}x{shape[1]}",
        "depth": depth,
        "optimizer": optimizer,
        "penalty": label,
        "B": B,
        "steps": steps,
        "steps_per_s": taken / best,
        "step_ms": 1e3 * best / max(taken // B, 1),
        "flops_per_step": flops,
        "compile_s": compile_s,
        "program_mib": (b / 2**20) if (b := _program_bytes(compiled)) is not None else None,
    }


def run_bench(
    quick: bool = False,
    sizes: Sequence[tuple[int, int]] | None = None,
    depths: Sequence[int] | None = None,
    optimizers: Sequence[str] | None = None,
    penalties: Sequence[str] | None = None,
    batches: Sequence[int] | None = None,
    iterations: int = 8,
    rank: int = 16,
    steps: Callable[[tuple[int, int], int, str, int], int] | None = None,
    progress: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Benchmark the engine; one dict per configuration (see the module notes for columns).

    Defaults: ``quick`` — 100×100, depths 1 and 3, Adam, penalties none / svd / subspace,
    B = 1 and 16 (under a minute on one core); full — 100×100 with depths 1–4, GD and Adam,
    penalties none / svd / subspace, B = 1, 16, 64, then 943×1682 with depths 1–4, B = 1 and
    few steps (a few minutes). ``penalties`` may also name ``"newton_schulz"`` and
    ``"gram"``; ``iterations``: Newton–Schulz steps; ``rank``: the subspace method's rank.
    ``steps(shape, depth, penalty, B)`` overrides the number of timed steps. ``progress``
    receives each row as it is measured. Each row also carries ``matmul_gflops`` (the
    single-thread rate at the size's larger dimension, the better of a measurement before and
    one after the size's rows) and ``of_floor``.
    """
    sizes = [(int(s[0]), int(s[1])) for s in (sizes or ([SMALL] if quick else [SMALL, LARGE]))]
    depths = list(depths or ((1, 3) if quick else (1, 2, 3, 4)))
    optimizers = list(optimizers or (("adam",) if quick else ("gd", "adam")))
    penalties = list(penalties or ("none", "svd", "subspace"))
    for p in penalties:
        if p not in PENALTY_LABELS:
            raise unknown_name("penalty", p, PENALTY_LABELS)
    if "none" in penalties:  # the reference row is measured first
        penalties.remove("none")
        penalties.insert(0, "none")

    def default_steps(shape, depth, penalty, B):
        if shape == SMALL:
            base = 200 if quick else 1000
            work = (1 if penalty == "none" else 4) * max(1, B // 4) * (1 + depth // 2)
            return max(20, base // work)
        return 3 if penalty != "none" or depth > 1 else 10

    steps = steps or default_steps
    rows: list[dict] = []
    for shape in sizes:
        gflops = matmul_gflops(max(shape))
        big = shape[0] * shape[1] > 10**5
        bs = list(batches or ((1,) if big else (1, 16) if quick else (1, 16, 64)))
        first = len(rows)
        for depth in depths:
            for opt in optimizers:
                for B in bs:
                    ref = None
                    for pen in penalties:
                        row = time_config(
                            shape, depth, opt, pen, B, steps(shape, depth, pen, B), iterations, rank
                        )
                        row["matmul_gflops"] = gflops
                        f = row["flops_per_step"]
                        row["of_floor"] = row["steps_per_s"] * f / (gflops * 1e9) if f else None
                        if pen == "none":
                            ref = row["steps_per_s"]
                        row["vs_none"] = row["steps_per_s"] / ref if ref else None
                        rows.append(row)
                        if progress:
                            progress(row)
        # measured again after the size's rows, keeping the faster: on a shared machine the
        # rate drifts with the load, and a floor must not be taken from a slowed measurement
        best = max(gflops, matmul_gflops(max(shape)))
        for row in rows[first:]:
            row["matmul_gflops"] = best
            f = row["flops_per_step"]
            row["of_floor"] = row["steps_per_s"] * f / (best * 1e9) if f else None
    return rows


COLUMNS = (
    ("size", "size", "{}"),
    ("depth", "N", "{}"),
    ("optimizer", "opt", "{}"),
    ("penalty", "penalty", "{}"),
    ("B", "B", "{}"),
    ("steps", "steps", "{}"),
    ("steps_per_s", "trial-steps/s", "{:.4g}"),
    ("step_ms", "ms/step", "{:.3g}"),
    ("vs_none", "vs none", "{:.2f}"),
    ("of_floor", "of floor", "{:.0%}"),
    ("compile_s", "compile s", "{:.2f}"),
    ("program_mib", "program MiB", "{:.1f}"),
)


def format_table(rows: Iterable[dict]) -> str:
    """A plain-text table of :func:`run_bench` rows, with the machine's matmul rates on top."""
    rows = list(rows)
    lines = [f"device: {jax.devices()[0].device_kind}"]
    rates = {r["size"]: r.get("matmul_gflops") for r in rows}
    for size, g in rates.items():
        if g:
            lines.append(f"single-thread float32 matmul at {size}'s larger side: {g:.1f} GFLOP/s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    lines.append(f"process peak RSS: {rss * scale / 2**20:.0f} MiB")

    def cell(row, key, fmt):
        v = row.get(key)
        return "-" if v is None else fmt.format(v)

    table = [[h for _, h, _ in COLUMNS]] + [[cell(r, k, f) for k, _, f in COLUMNS] for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(len(COLUMNS))]
    for t in table:
        lines.append("  ".join(c.rjust(w) for c, w in zip(t, widths, strict=True)))
    return "\n".join(lines)
