"""``fit`` and ``fit_many``: train one trial, or a batch of compatible trials as one program."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import (
    INT32_MAX,
    UINT32_MAX,
    ConfigError,
    check_choice,
    check_int,
    check_real,
)
from ..models import Model
from ..optim import Optimizer, as_optimizer
from ..optim import adam as default_optimizer
from ..penalties import Penalty
from ..problems import Problem
from .loop import (
    TrialConst,
    compiled_chunk,
    compiled_escape,
    compiled_init,
    compiled_metrics,
    factored_penalty,
    keep_finite,
    reads_factors,
)
from .result import RUNNING, STATUSES, FitResult

DTYPES = ("float32", "float64")
# a result's m × n matrix is formed only up to this many entries (64 MB in float32) when the
# trial never formed it (sparse observations read through the model's factors); above it
# ``FitResult.matrix`` is None and ``factors`` hold the model
DENSE_RESULT_MAX = 2**24


def _per_trial(name: str, value: Any, n: int) -> list:
    """Broadcast a scalar (or check a sequence) to one value per trial."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ConfigError(f"{name} has {len(value)} entries but there are {n} trials")
        return list(value)
    return [value] * n


def _check_batch(problems, penalties, optimizers) -> None:
    for i, p in enumerate(problems):
        if not isinstance(p, Problem):
            raise ConfigError(
                f"problems[{i}] is a {type(p).__name__}, not an algoreg Problem (make one with "
                "ar.problems.completion, ar.problems.sensing, …)"
            )
    sig = problems[0].signature()
    for i, p in enumerate(problems):
        if p.signature() != sig:
            raise ConfigError(
                f"problems[{i}] {p.signature()} cannot share a batch with problems[0] {sig}: "
                "a batch needs one problem type and shape"
            )
    for i, p in enumerate(penalties):
        if p is not None and not isinstance(p, Penalty):
            raise ConfigError(f"penalty[{i}] is a {type(p).__name__}, not an algoreg Penalty")
    keys = {p.static_key() for p in penalties if p is not None and p.lam > 0}
    if len(keys) > 1:
        raise ConfigError(
            f"one batch needs one penalty type (λ may vary); got {sorted(map(str, keys))}"
        )
    for i, o in enumerate(optimizers):
        if not isinstance(o, Optimizer):
            raise ConfigError(
                f"optimizer[{i}] is a {type(o).__name__}, not an algoreg Optimizer or an optax "
                "GradientTransformation"
            )
    if len({o.static_key() for o in optimizers}) > 1:
        raise ConfigError("one batch needs one optimizer kind (hyper-parameters may vary)")


def _check_factored(model: Model, penalties) -> None:
    """A model with a ``spectrum`` takes every penalty exactly from its k × k cores each step:
    an SVD-light (``refresh_every``) or SVD-free (``method``) variant has nothing to save there
    and is refused rather than silently ignored."""
    if not factored_penalty(model, next((p for p in penalties if p is not None), None)):
        return
    for i, p in enumerate(penalties):
        if p is None:
            continue
        if getattr(p, "refresh_every", 1) != 1 or getattr(p, "method", "svd") != "svd":
            raise ConfigError(
                f"penalty[{i}] {p.name!r}: model {model.kind!r} computes the exact penalty from "
                "its k × k cores every step; refresh_every and method (allowed: 1, 'svd') apply "
                "to a dense product"
            )
        try:
            p.raw_spectrum(jnp.ones(1))
        except NotImplementedError:
            raise ConfigError(
                f"penalty[{i}] {p.name!r} is not a function of the singular values; model "
                f"{model.kind!r} takes penalties from its spectrum"
            ) from None


def fit_many(
    problems: Sequence[Problem],
    model: Model,
    *,
    penalty: Penalty | Sequence[Penalty | None] | None = None,
    optimizer: Optimizer | Any | Sequence[Optimizer | Any] | None = None,
    seeds: Sequence[int] | None = None,
    max_steps: int | Sequence[int] = 10_000,
    tol: float | Sequence[float] = 0.0,
    log_every: int = 1000,
    diverge_above: float = 1e10,
    dtype: str = "float32",
    progress: bool | Callable[[dict], None] = False,
    blas_threads: int | None = 1,
    log_flow: bool = False,
) -> list[FitResult]:
    """Train B compatible trials as one batched program; return one result per trial.

    ``optimizer``: an algoreg :class:`~algoreg.optim.Optimizer` (``ar.optim.adam(…)``) or any
    optax ``GradientTransformation`` (``optax.lion(1e-4)``).
    Per-trial (scalar or sequence of length B): ``penalty`` λ, ``optimizer`` hyper-parameters,
    ``seeds`` (initialization key; default 0…B−1), ``max_steps``, ``tol``. Shared: the
    problem type and shape, ``model``, the penalty and optimizer kinds. Every ``log_every``
    steps each running trial logs train loss, objective, test metrics, singular values,
    effective rank, nuclear and Frobenius norms and balancedness. ``progress=True`` prints a
    line per chunk to stderr; a callable receives a dict per chunk instead.

    ``blas_threads`` caps the BLAS/LAPACK threads (JAX's CPU SVD runs through OpenBLAS) while
    training, via threadpoolctl; None leaves them alone. One thread is the default because a
    100×100 SVD was measured 14× slower with OpenBLAS's default threading on a busy 2-core box.
    ``log_flow=True`` also logs ``sv_flow_rate``, the gradient-flow prediction of dσ/dt
    (Arora et al. 2019) at each log point, to check the singular-value dynamics.
    """
    problems = list(problems)
    if not problems:
        raise ConfigError("fit_many needs at least one problem")
    if not isinstance(model, Model):
        raise ConfigError(
            f"model must be an algoreg model (algoreg.models.get(kind, …)), got "
            f"{type(model).__name__}"
        )
    if log_flow and not hasattr(model, "depth"):
        raise ConfigError(
            f"log_flow: the gradient-flow prediction is for a depth-N chain of matrices; model "
            f"{model.kind!r} is not one"
        )
    B = len(problems)
    penalties = _per_trial("penalty", penalty, B)
    # an optax transformation (itself a tuple) is wrapped before a sequence is told apart
    optimizer = as_optimizer(default_optimizer() if optimizer is None else optimizer)
    if isinstance(optimizer, list | tuple):
        optimizer = [as_optimizer(o) for o in optimizer]
    optimizers = _per_trial("optimizer", optimizer, B)
    seeds = list(range(B)) if seeds is None else _per_trial("seeds", list(seeds), B)
    seeds = [check_int(f"seeds[{i}]", s, low=0, high=UINT32_MAX) for i, s in enumerate(seeds)]
    max_steps = [
        check_int("max_steps", s, low=1, high=INT32_MAX)
        for s in _per_trial("max_steps", max_steps, B)
    ]
    tol = [check_real("tol", t, low=0.0) for t in _per_trial("tol", tol, B)]
    log_every = check_int("log_every", log_every, low=1)
    diverge_above = check_real("diverge_above", diverge_above, low=0.0, low_open=True)
    check_choice("dtype", dtype, DTYPES)
    _check_batch(problems, penalties, optimizers)
    _check_factored(model, penalties)
    if hasattr(model, "check_problem"):  # a model that refuses some problems up front
        model.check_problem(problems[0])

    x64 = jax.enable_x64(True) if dtype == "float64" else contextlib.nullcontext()
    blas = (
        contextlib.nullcontext()
        if blas_threads is None
        else threadpool_limits(check_int("blas_threads", blas_threads, low=1), user_api="blas")
    )
    with x64, blas:
        return _run(
            problems,
            model,
            penalties,
            optimizers,
            seeds,
            max_steps,
            tol,
            log_every,
            diverge_above,
            dtype,
            progress,
            log_flow,
        )


def prepare_batch(problems, model, penalties, optimizers, seeds, max_steps, tol, dtype):
    """The initial batched state and constants of checked trials (lists of length B).

    Returns (state, const, template, optimizer key): ``template`` is the batch's penalty at
    λ = 1 (None when every λ is 0: such a batch needs no penalty term, and no SVD per step).
    """
    problem_cls = type(problems[0])
    active = [p for p in penalties if p is not None and p.lam > 0]
    template = dataclasses.replace(active[0], lam=1.0) if active else None
    lam = [0.0 if p is None else p.lam for p in penalties]
    fdt = jnp.dtype(dtype)
    data = {  # index arrays (sparse observations) stay integer
        k: jnp.asarray(v, jnp.int32 if np.issubdtype(v.dtype, np.integer) else fdt)
        for k, v in problem_cls.stack(problems).items()
    }
    hyper = {n: jnp.asarray([o.params[n] for o in optimizers], fdt) for n in optimizers[0].params}
    const = TrialConst(
        data, hyper, jnp.asarray(lam, fdt), jnp.asarray(max_steps, jnp.int32), jnp.asarray(tol, fdt)
    )
    opt_key = optimizers[0].static_key()
    keys = jax.vmap(jax.random.key)(jnp.asarray(seeds, jnp.uint32))
    init = compiled_init(model, template, opt_key, problems[0].shape, dtype)
    state = init(keys, hyper, data)
    return state, const, template, opt_key


def _run(
    problems,
    model,
    penalties,
    optimizers,
    seeds,
    max_steps,
    tol,
    log_every,
    diverge_above,
    dtype,
    progress,
    log_flow,
) -> list[FitResult]:
    t0 = time.perf_counter()
    B = len(problems)
    problem_cls = type(problems[0])
    state, const, template, opt_key = prepare_batch(
        problems, model, penalties, optimizers, seeds, max_steps, tol, dtype
    )
    length = min(log_every, max(max_steps))
    # classes are hashable; mypy's lru_cache stub does not see type[Any] as Hashable
    chunk = compiled_chunk(problem_cls, model, template, opt_key, length, diverge_above)  # type: ignore[arg-type]
    metrics = compiled_metrics(problem_cls, model, template, bool(log_flow))  # type: ignore[arg-type]

    logs: list[list[dict]] = [[] for _ in range(B)]
    snapshot = state.params  # last iterate with a finite objective, per trial

    def record(state, which) -> None:
        nonlocal snapshot
        values = jax.device_get(metrics(state.params, const))
        finite = np.isfinite(values["objective"])
        snapshot = keep_finite(snapshot, state.params, jnp.asarray(finite))
        steps = np.asarray(state.step)
        for i in which:
            # a diverged trial's non-finite point is not logged, and a trial that stops at the
            # start of a chunk (its tol reached on the previous chunk's last step) has taken no
            # step since its last log point: logging it again would repeat that step
            repeat = bool(logs[i]) and logs[i][-1]["step"] == int(steps[i])
            if finite[i] and not repeat:
                logs[i].append({"step": int(steps[i]), **{k: v[i] for k, v in values.items()}})

    record(state, range(B))
    escapes = np.zeros((B, 2), int)  # escapes tried, accepted (a model with escape_step)
    while True:
        was_running = np.flatnonzero(np.asarray(state.status) == RUNNING)
        if was_running.size == 0:
            break
        state = chunk(state, const)
        record(state, was_running)
        if getattr(model, "escape", False):
            state = _escape(model, state, const, logs, was_running, escapes)
        _report(progress, state, B, max(max_steps), t0)

    wall = time.perf_counter() - t0
    params = jax.device_get(snapshot)
    status = np.asarray(state.status)
    steps = np.asarray(state.step)
    m, n = problems[0].shape
    dense = not reads_factors(problem_cls, model) or m * n <= DENSE_RESULT_MAX
    results = []
    for i in range(B):
        final = logs[i][-1]
        history = {k: np.asarray([row[k] for row in logs[i]]) for k in final}
        name = STATUSES[status[i]]
        if name == "max_steps" and final["train_loss"] <= tol[i]:
            name = "converged"  # reached tol exactly on the last allowed step
        mine = jax.tree.map(lambda p, i=i: p[i], params)  # this trial's parameters
        scalars = {k: float(v) for k, v in final.items() if np.ndim(v) == 0 and k != "step"}
        scalars.update(problems[i].history_metrics(history, model, optimizers[i]))
        if hasattr(model, "history_metrics"):
            scalars.update(model.history_metrics(history, optimizers[i]))
        if getattr(model, "escape", False):
            scalars.update(
                escapes_tried=float(escapes[i, 0]), escapes_accepted=float(escapes[i, 1])
            )
        results.append(
            FitResult(
                matrix=np.asarray(model.product(jax.tree.map(jnp.asarray, mine)))
                if dense
                else None,
                factors=[np.asarray(leaf) for leaf in jax.tree.leaves(mine)],
                status=name,
                steps=int(steps[i]),
                metrics=scalars,
                history=history,
                wall_time=wall,
                seed=seeds[i],
                config={
                    "problem": repr(problems[i]),
                    "model": dataclasses.asdict(model),
                    "penalty": None
                    if penalties[i] is None
                    else {"kind": penalties[i].name, **dataclasses.asdict(penalties[i])},
                    "optimizer": {
                        "kind": optimizers[i].kind,
                        **optimizers[i].params,
                        **dict(optimizers[i].static),
                    },
                    "max_steps": max_steps[i],
                    "tol": tol[i],
                    "log_every": log_every,
                    "dtype": dtype,
                    "batch_size": B,
                },
            )
        )
    return results


def _escape(model, state, const, logs, running, escapes):
    """Between chunks: for each trial still running whose ``grad_norm`` stayed below the
    model's ``escape_tol`` at its last two log points, one ``model.escape_step``; the accepted
    ones continue from the new point (with the optimizer state they had: a stateful optimizer
    is not reset). Counts tries and acceptances in ``escapes``."""
    stalled = np.zeros(len(logs), bool)
    status = np.asarray(state.status)
    for i in running[status[running] == RUNNING]:  # not those that stopped in this chunk
        last = [row.get("grad_norm", np.inf) for row in logs[i][-2:]]
        stalled[i] = len(last) == 2 and max(last) < model.escape_tol
    if not stalled.any():
        return state
    new, ok = compiled_escape(model)(state.params, const.data)
    take = stalled & np.asarray(ok)
    escapes[:, 0] += stalled
    escapes[:, 1] += take
    return state._replace(params=keep_finite(state.params, new, jnp.asarray(take)))


def _report(progress, state, B: int, max_steps: int, t0: float) -> None:
    if not progress:
        return
    status = np.asarray(state.status)
    info = {
        "running": int(np.sum(status == RUNNING)),
        "trials": B,
        "max_step": int(np.max(np.asarray(state.step))),
        "max_steps": max_steps,
        "elapsed": time.perf_counter() - t0,
    }
    if callable(progress):
        progress(info)
    else:
        print(
            f"[algoreg] step {info['max_step']}/{max_steps}  running {info['running']}/{B}"
            f"  {info['elapsed']:.1f}s",
            file=sys.stderr,
            flush=True,
        )


def fit(
    problem: Problem,
    model: Model,
    *,
    penalty: Penalty | None = None,
    optimizer: Optimizer | Any | None = None,
    seed: int = 0,
    max_steps: int = 10_000,
    tol: float = 0.0,
    log_every: int = 1000,
    diverge_above: float = 1e10,
    dtype: str = "float32",
    progress: bool | Callable[[dict], None] = False,
    blas_threads: int | None = 1,
    log_flow: bool = False,
) -> FitResult:
    """Train one trial: minimise loss(W) + λ·R(W) over the model's parameters.

    ``W`` is the model's end-to-end matrix, ``loss`` the problem's data fit, ``R`` the
    penalty (None: no penalty); stops at train loss ≤ ``tol``, ``max_steps`` or divergence.
    Defaults: Adam with learning rate 1e-3. See :func:`fit_many` for the batched form.
    """
    return fit_many(
        [problem],
        model,
        penalty=penalty,
        optimizer=optimizer,
        seeds=[seed],
        max_steps=max_steps,
        tol=tol,
        log_every=log_every,
        diverge_above=diverge_above,
        dtype=dtype,
        progress=progress,
        blas_threads=blas_threads,
        log_flow=log_flow,
    )[0]
