"""Optimizers as optax ``GradientTransformation`` factories with per-trial hyper-parameters.

An :class:`Optimizer` is a frozen description (kind, float hyper-parameters, static options).
``build(**hyper)`` returns the optax transformation; the engine calls it inside ``vmap`` with
traced hyper-parameters, so one batch can hold many learning rates. Besides the standard
ones, this module defines Arora et al.'s GroupRMSprop and the two halves of Adam used to ask
which part of Adam makes the ratio penalty work:

- gd_decay:          plain GD with step η₀/(t + 1)^p (Du, Hu, Lee 2018), p in (1/2, 1]
- Adam:              m̂/(√v̂ + ε) with m, v EMAs of g and g² (bias-corrected)
- adam_numerator:    m̂            (momentum as a bias-corrected EMA, no normalization)
- adam_denominator:  g/(√v̂ + ε)   (per-coordinate normalization, no momentum)
- group_rmsprop:     g/(√v̂ + ε) with ONE scalar v, the EMA of Σ_all-factors ‖g‖²
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..errors import ConfigError, check_bool, check_real, unknown_name


class GroupRMSState(NamedTuple):
    """Steps taken (``steps``, not ``count``, which would shadow tuple.count) and v."""

    steps: jax.Array
    v: jax.Array


def scale_by_group_rms(decay: float = 0.99, eps: float = 1e-4) -> optax.GradientTransformation:
    """Divide all updates by √v̂ + ε, v_t = β v_{t−1} + (1 − β) Σ_leaves ‖g‖², v̂ = v/(1 − β^t).

    One scalar for all parameters (Arora et al. 2019's ``GroupRMSprop``): effectively
    gradient descent with the step normalized by a running gradient norm.
    """

    def init(params):
        dtype = jax.tree.leaves(params)[0].dtype
        return GroupRMSState(jnp.zeros([], jnp.int32), jnp.zeros([], dtype))

    def update(updates, state, params=None):
        del params
        sq = sum(jnp.sum(g**2) for g in jax.tree.leaves(updates))
        v = decay * state.v + (1 - decay) * sq
        count = state.steps + 1
        denom = jnp.sqrt(v / (1 - decay**count)) + eps
        return jax.tree.map(lambda g: g / denom, updates), GroupRMSState(count, v)

    return optax.GradientTransformation(init, update)


def _gd(learning_rate):
    """Gradient descent: w ← w − η g."""
    return optax.sgd(learning_rate)


def _gd_decay(learning_rate, power):
    """Gradient descent with a decaying step η_t = η₀/(t + 1)^p, p ∈ (½, 1] (Du, Hu, Lee 2018)."""
    return optax.sgd(lambda t: learning_rate / (t + 1.0) ** power)


def _momentum(learning_rate, momentum, *, nesterov=False):
    """Heavy-ball (or Nesterov) momentum: v ← μ v + g, w ← w − η v."""
    return optax.sgd(learning_rate, momentum=momentum, nesterov=nesterov)


def _adam(learning_rate, b1, b2, eps):
    """Adam: w ← w − η m̂/(√v̂ + ε), m, v bias-corrected EMAs of g and g²."""
    return optax.adam(learning_rate, b1=b1, b2=b2, eps=eps)


def _rmsprop(learning_rate, decay, eps):
    """RMSprop: w ← w − η g/(√v + ε), v an EMA of g² (per coordinate)."""
    return optax.rmsprop(learning_rate, decay=decay, eps=eps)


def _group_rmsprop(learning_rate, decay, eps):
    """Arora et al.'s GroupRMSprop: one scalar v, the EMA of Σ‖g‖² over all factors."""
    return optax.chain(scale_by_group_rms(decay, eps), optax.scale_by_learning_rate(learning_rate))


def _adam_numerator(learning_rate, b1):
    """Adam's numerator alone: w ← w − η m̂ (bias-corrected momentum, no normalization)."""
    return optax.chain(optax.ema(b1, debias=True), optax.scale_by_learning_rate(learning_rate))


def _adam_denominator(learning_rate, b2, eps):
    """Adam's denominator alone: w ← w − η g/(√v̂ + ε) (per-coordinate scaling, no momentum)."""
    return optax.chain(
        optax.scale_by_adam(b1=0.0, b2=b2, eps=eps), optax.scale_by_learning_rate(learning_rate)
    )


# kind -> (builder, default float hyper-parameters, allowed static options)
_REGISTRY: dict[
    str, tuple[Callable[..., optax.GradientTransformation], dict[str, float], tuple]
] = {
    "gd": (_gd, {"learning_rate": 1e-2}, ()),
    "gd_decay": (_gd_decay, {"learning_rate": 1e-2, "power": 0.75}, ()),
    "momentum": (_momentum, {"learning_rate": 1e-2, "momentum": 0.9}, ("nesterov",)),
    "adam": (_adam, {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8}, ()),
    "rmsprop": (_rmsprop, {"learning_rate": 1e-3, "decay": 0.99, "eps": 1e-8}, ()),
    "group_rmsprop": (_group_rmsprop, {"learning_rate": 1e-3, "decay": 0.99, "eps": 1e-4}, ()),
    "adam_numerator": (_adam_numerator, {"learning_rate": 1e-3, "b1": 0.9}, ()),
    "adam_denominator": (_adam_denominator, {"learning_rate": 1e-3, "b2": 0.999, "eps": 1e-8}, ()),
}
OPTIMIZERS = tuple(_REGISTRY)
CUSTOM = "optax"  # the kind of an optax transformation given as is (see :func:`custom`)

_DECAYS = ("b1", "b2", "decay", "momentum")


@dataclass(frozen=True)
class Optimizer:
    """A named optimizer with float hyper-parameters (batchable) and static options."""

    kind: str
    hyper: tuple[tuple[str, float], ...]
    static: tuple[tuple[str, Any], ...] = ()

    @property
    def params(self) -> dict[str, float]:
        return dict(self.hyper)

    @property
    def learning_rate(self) -> float:
        return self.params["learning_rate"]

    def static_key(self) -> tuple:
        """Optimizers with equal keys can share one batched program."""
        return (self.kind, tuple(name for name, _ in self.hyper), self.static)

    def build(self, **hyper: Any) -> optax.GradientTransformation:
        """The optax transformation; ``hyper`` may override (e.g. with traced) values."""
        if self.kind == CUSTOM:
            return dict(self.static)["transformation"]
        builder = _REGISTRY[self.kind][0]
        return builder(**{**self.params, **hyper}, **dict(self.static))


def get(kind: str, **params: Any) -> Optimizer:
    """An optimizer by registry name, e.g. ``get("adam", learning_rate=1e-3)``."""
    if kind not in _REGISTRY:
        raise unknown_name("optimizer", kind, _REGISTRY)
    _, defaults, static_names = _REGISTRY[kind]
    unknown = set(params) - set(defaults) - set(static_names)
    if unknown:
        allowed = sorted(set(defaults) | set(static_names))
        raise ConfigError(
            f"unknown parameter(s) {sorted(unknown)} for optimizer {kind!r}; allowed: {allowed}"
        )
    hyper = {**defaults, **{k: v for k, v in params.items() if k in defaults}}
    for name, value in hyper.items():
        where = f"optimizer {kind!r}: {name}"
        if name == "learning_rate":
            check_real(where, value, low=0.0, low_open=True)
        elif name == "power":  # Du, Hu, Lee (2018): η_t = η₀/(t + 1)^{1/2 + δ}, 0 < δ ≤ 1/2
            check_real(where, value, low=0.5, high=1.0, low_open=True)
        elif name in _DECAYS:
            check_real(where, value, low=0.0, high=1.0, high_open=True)
        else:
            check_real(where, value, low=0.0)
    static = tuple(
        sorted(
            (k, check_bool(f"optimizer {kind!r}: {k}", v))
            for k, v in params.items()
            if k in static_names
        )
    )
    return Optimizer(kind, tuple(hyper.items()), static)


def custom(transformation: optax.GradientTransformation) -> Optimizer:
    """Any optax transformation as an optimizer, e.g. ``custom(optax.lion(1e-4))`` (``fit``
    also takes one directly). Its hyper-parameters are fixed inside it, so trials share one
    batch only when they share the same transformation object."""
    if not isinstance(transformation, optax.GradientTransformation):
        raise ConfigError(
            f"an optimizer is a name (one of {', '.join(OPTIMIZERS)}), an algoreg Optimizer or "
            f"an optax GradientTransformation, got {type(transformation).__name__}"
        )
    return Optimizer(CUSTOM, (), (("transformation", transformation),))


def as_optimizer(value: Any) -> Any:
    """``value`` with an optax transformation wrapped by :func:`custom` (anything else as
    is, for the caller to check)."""
    return custom(value) if isinstance(value, optax.GradientTransformation) else value


def gd(learning_rate: float = 1e-2) -> Optimizer:
    """Plain gradient descent W ← W − η∇."""
    return get("gd", learning_rate=learning_rate)


def gd_decay(learning_rate: float = 1e-2, power: float = 0.75) -> Optimizer:
    """Gradient descent with a decaying step η_t = η₀/(t + 1)^power, power in (1/2, 1]
    (Du, Hu, Lee 2018: with power = 1/2 + δ it balances the factors of an asymmetric
    factorization). Any other schedule: ``custom(optax.sgd(schedule))``."""
    return get("gd_decay", learning_rate=learning_rate, power=power)


def momentum(
    learning_rate: float = 1e-2, momentum: float = 0.9, nesterov: bool = False
) -> Optimizer:
    """Heavy-ball (or Nesterov) momentum."""
    return get("momentum", learning_rate=learning_rate, momentum=momentum, nesterov=nesterov)


def adam(
    learning_rate: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """Adam (Kingma & Ba 2015)."""
    return get("adam", learning_rate=learning_rate, b1=b1, b2=b2, eps=eps)


def rmsprop(learning_rate: float = 1e-3, decay: float = 0.99, eps: float = 1e-8) -> Optimizer:
    """RMSProp (optax's: ε inside the square root, no bias correction)."""
    return get("rmsprop", learning_rate=learning_rate, decay=decay, eps=eps)


def group_rmsprop(learning_rate: float = 1e-3, decay: float = 0.99, eps: float = 1e-4) -> Optimizer:
    """Arora et al.'s GroupRMSprop: one scalar second moment for all factors."""
    return get("group_rmsprop", learning_rate=learning_rate, decay=decay, eps=eps)


def adam_numerator(learning_rate: float = 1e-3, b1: float = 0.9) -> Optimizer:
    """Adam without its denominator: step −η·m̂ (bias-corrected EMA momentum)."""
    return get("adam_numerator", learning_rate=learning_rate, b1=b1)


def adam_denominator(
    learning_rate: float = 1e-3, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """Adam without momentum: step −η·g/(√v̂ + ε)."""
    return get("adam_denominator", learning_rate=learning_rate, b2=b2, eps=eps)
