"""The one training loop: a batch of trials as one compiled tensor program.

A trial is a pure function of (problem data, initial key, hyper-parameters). A batch stacks
B compatible trials (same problem type and shape, model, penalty type, optimizer kind) on a
leading axis and ``vmap``s the step. Python runs once per chunk of ``log_every`` steps: the
chunk is a jitted ``lax.while_loop`` that exits early once every trial has stopped. Each trial
stops on its own — train loss ≤ tol (checked before each step, as in Arora et al.'s code),
``max_steps`` reached, or divergence (non-finite objective, or train loss above
``diverge_above``). A diverged trial is returned at its last logged finite iterate (kept by
the host loop at log points, so the step carries no extra pass over the parameters).
Compiled programs are cached on the static configuration, so repeated calls with other
seeds, sample sizes, learning rates or λs reuse them.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..metrics import effective_rank_of
from ..models import Model
from ..optim import Optimizer
from ..penalties import Penalty
from ..penalties.factored import factored_singular_values
from ..penalties.svd import thin_svd
from ..problems import Problem
from .result import CONVERGED, DIVERGED, MAX_STEPS, RUNNING


class TrialState(NamedTuple):
    params: tuple[jax.Array, ...]
    opt_state: Any
    step: jax.Array  # int32, steps taken
    status: jax.Array  # int32, see result.STATUSES
    cache: Any = None  # SVD-light penalties: what the surrogate holds fixed between refreshes;
    # stateful penalties (the warm-started subspace polar): the state carried step to step


class TrialConst(NamedTuple):
    """Per-trial constants (each with a leading batch axis when batched)."""

    data: dict[str, jax.Array]
    hyper: dict[str, jax.Array]
    lam: jax.Array
    max_steps: jax.Array
    tol: jax.Array


def refresh_every(penalty: Penalty | None) -> int:
    """Steps between SVD refreshes of an SVD-light penalty (1: exact every step)."""
    return 1 if penalty is None else getattr(penalty, "refresh_every", 1)


def stateful(penalty: Penalty | None) -> bool:
    """Whether the penalty carries state from step to step (e.g. ``method="subspace"``)."""
    return penalty is not None and getattr(penalty, "stateful", False)


def reads_factors(problem_cls: type[Problem], model: Model) -> bool:
    """Whether the data term is evaluated from the model's ``factors`` (W = L Rᵀ) rather than
    its m × n product: when the problem stores its observations sparsely (``reads_factors``)
    and the model has factors. Then no step forms W."""
    return getattr(problem_cls, "reads_factors", False) and hasattr(model, "factors")


def factored_penalty(model: Model, penalty: Penalty | None) -> bool:
    """Whether the penalty is taken exactly from the model's ``spectrum`` (its k × k cores)
    instead of an SVD of the product (``fit`` refuses SVD-light or SVD-free methods there)."""
    return penalty is not None and hasattr(model, "spectrum")


def data_loss(problem_cls, model: Model, params, data):
    """The problem's loss of the model at ``params``: from the factors, or from W."""
    if reads_factors(problem_cls, model):
        return problem_cls.loss(model.factors(params), data)  # type: ignore[attr-defined]
    return problem_cls.loss(model.product(params), data)


def _objective(problem_cls, model: Model, penalty: Penalty | None, surrogate: bool):
    """(params, data, λ, cache) → (loss + λ·R, (loss, next cache)); R is the exact penalty (from
    the model's k × k cores when it has a ``spectrum``), its SVD-light surrogate, or a stateful
    penalty's step value (``surrogate`` selects the second; a stateful penalty always uses its
    state when one is given)."""

    def objective(params, data, lam, cache=None):
        fit = data_loss(problem_cls, model, params, data)
        if penalty is None:
            return fit, (fit, cache)
        if factored_penalty(model, penalty):
            return fit + lam * penalty.raw_spectrum(model.spectrum(params)), (fit, cache)
        W = model.product(params)
        if stateful(penalty) and cache is not None:
            value, cache = penalty.step_value(W, cache)
        else:
            value = penalty.surrogate(W, cache) if surrogate else penalty.raw(W)
        return fit + lam * value, (fit, cache)

    return objective


@functools.lru_cache(maxsize=128)
def compiled_init(
    model: Model,
    penalty: Penalty | None,
    optimizer_key: tuple,
    shape: tuple[int, int],
    dtype: str,
):
    """jit(vmap(init)): keys, hyper, data → TrialState. A model whose start depends on the
    problem (``uses_data = True``, e.g. a spectral initialization) gets the trial's data."""
    kind, names, static = optimizer_key
    spec = Optimizer(kind, tuple((n, 0.0) for n in names), static)

    def init(key, hyper, data):
        if getattr(model, "uses_data", False):
            params = model.init_params(key, shape, jnp.dtype(dtype), data=data)
        else:
            params = model.init_params(key, shape, jnp.dtype(dtype))
        opt_state = spec.build(**hyper).init(params)
        zero = jnp.zeros((), jnp.int32)
        cache = None
        if refresh_every(penalty) > 1:  # placeholder; the chunk refreshes it on entry
            shapes = jax.eval_shape(penalty.cache, model.product(params))
            cache = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), shapes)
        elif stateful(penalty):
            cache = penalty.init_state(model.product(params))
        return TrialState(params, opt_state, zero, zero + RUNNING, cache)

    return jax.jit(jax.vmap(init))


@functools.lru_cache(maxsize=128)
def compiled_chunk(
    problem_cls: type[Problem],
    model: Model,
    penalty: Penalty | None,
    optimizer_key: tuple,
    length: int,
    diverge_above: float,
):
    """jit of: run up to ``length`` steps of every trial in a batch (vmap'd step)."""
    kind, names, static = optimizer_key
    spec = Optimizer(kind, tuple((n, 0.0) for n in names), static)
    every = refresh_every(penalty)
    objective = _objective(problem_cls, model, penalty, surrogate=every > 1)
    value_and_grad = jax.value_and_grad(objective, has_aux=True)

    def step(state: TrialState, const: TrialConst) -> TrialState:
        (total, (fit, cache)), grads = value_and_grad(
            state.params, const.data, const.lam, state.cache
        )
        running = state.status == RUNNING
        # decided from scalars at the current iterate only: no extra pass over the parameters
        bad = ~jnp.isfinite(total) | (fit > diverge_above)
        status = jnp.where(
            ~running,
            state.status,
            jnp.where(fit <= const.tol, CONVERGED, jnp.where(bad, DIVERGED, RUNNING)),
        )
        advance = status == RUNNING
        updates, opt_state = spec.build(**const.hyper).update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        steps = state.step + advance.astype(jnp.int32)
        status = jnp.where(advance & (steps >= const.max_steps), MAX_STEPS, status)
        keep = functools.partial(jnp.where, advance)
        return TrialState(
            jax.tree.map(keep, params, state.params),
            jax.tree.map(keep, opt_state, state.opt_state),
            steps,
            status,
            jax.tree.map(keep, cache, state.cache) if stateful(penalty) else state.cache,
        )

    batched_step = jax.vmap(step)
    # used only when the penalty is stateful (so not None and with a cache)
    batched_cache = jax.vmap(lambda params: penalty.cache(model.product(params)))  # type: ignore[union-attr]

    def chunk(state: TrialState, const: TrialConst) -> TrialState:
        def cond(carry):
            i, s = carry
            return (i < length) & jnp.any(s.status == RUNNING)

        def body(carry):
            i, s = carry
            if every > 1:  # the predicate is not batched, so this stays a real branch
                cache = jax.lax.cond(
                    i % every == 0, lambda: batched_cache(s.params), lambda: s.cache
                )
                s = s._replace(cache=cache)
            return i + 1, batched_step(s, const)

        return jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int32), state))[1]

    return jax.jit(chunk)


def _exact(penalty: Penalty | None) -> Penalty | None:
    """The penalty with its exact (SVD) polar factor: what the metrics log, whatever the
    training ``method``."""
    if penalty is not None and getattr(penalty, "method", "svd") != "svd":
        return dataclasses.replace(penalty, method="svd")  # type: ignore[call-arg]
    return penalty


@functools.lru_cache(maxsize=128)
def compiled_metrics(
    problem_cls: type[Problem], model: Model, penalty: Penalty | None, flow: bool = False
):
    """jit(vmap): params, const → dict of logged quantities of each trial (exact penalty, even
    when training uses an SVD-free ``method``).

    A model with a ``spectrum`` logs the singular values, nuclear and Frobenius norms and
    effective rank of its penalized part from its cores; a problem that ``reads_factors``
    scores the model's factors, so no log point forms W either.

    ``flow`` adds ``sv_flow_rate``: the gradient-flow prediction of Arora et al. (2019, Thm 3)
    for a linear depth-N factorization started balanced, dσ_r/dt = −N (σ_r²)^{1−1/N}
    ⟨∇ℓ(W), u_r v_rᵀ⟩, where t = learning rate × steps for gradient descent.
    """
    objective = _objective(problem_cls, model, _exact(penalty), surrogate=False)
    loss_grad = jax.grad(problem_cls.loss)
    N = getattr(model, "depth", 1)  # log_flow: a depth-N chain (checked by fit)

    def metrics(params, const: TrialConst) -> dict[str, jax.Array]:
        total, (fit, _) = objective(params, const.data, const.lam)
        extra: dict[str, jax.Array] = {}
        if reads_factors(problem_cls, model):  # never form the m × n product
            scored = model.factors(params)  # type: ignore[attr-defined]
            spectrum = getattr(model, "spectrum", None)
            s = spectrum(params) if spectrum else factored_singular_values(*scored)
        else:
            W = scored = model.product(params)
            s = model.spectrum(params) if hasattr(model, "spectrum") else None
            if flow:
                U, s, Vh = thin_svd(W)
                proj = jnp.einsum("ik,ij,kj->k", U, loss_grad(W, const.data), Vh)
                extra = {"sv_flow_rate": -N * (s**2) ** (1 - 1 / N) * proj}
            elif s is None:
                s = thin_svd(W, compute_uv=False)
            if hasattr(model, "gradient_diagnostics"):  # quantities that need ∇ℓ(W)
                extra = {**extra, **model.gradient_diagnostics(params, loss_grad(W, const.data))}
        return {
            "train_loss": fit,
            "objective": total,
            **problem_cls.metrics(scored, const.data),
            "effective_rank": effective_rank_of(s),
            "nuclear_norm": jnp.sum(s),
            "fro_norm": jnp.sqrt(jnp.sum(s**2)),
            **model.diagnostics(params),
            "singular_values": s,
            **extra,
        }

    return jax.jit(jax.vmap(metrics))


@functools.lru_cache(maxsize=32)
def compiled_escape(model: Model):
    """jit(vmap(model.escape_step)): params, data → (params, accepted) for every trial."""
    return jax.jit(jax.vmap(model.escape_step))  # type: ignore[attr-defined]


@jax.jit
def keep_finite(snapshot, params, finite: jax.Array):
    """Per trial: ``params`` where ``finite``, else the previous ``snapshot``."""
    return jax.tree.map(
        lambda s, p: jnp.where(finite.reshape((-1,) + (1,) * (p.ndim - 1)), p, s), snapshot, params
    )
