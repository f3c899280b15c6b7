"""Minibatch training with optax: data loss + λ·regularizer, optional fixed pruning mask.

One call runs all epochs as a single compiled program (``lax.scan`` over epochs and
minibatches; each epoch draws a fresh permutation and drops the last partial batch). λ, the
learning rate and the mask are traced arguments, so a sweep over them compiles once per
(model, regularizer kind, optimizer, shapes).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import optim
from ..errors import ConfigError, check_int, check_real, unknown_name
from ..regularizers import Regularizer

LOSSES = ("xent", "mse")


def ones_mask(params: Any) -> Any:
    """A mask of ones (nothing pruned) shaped like ``params``."""
    return jax.tree.map(jnp.ones_like, params)


def _loss(kind: str, out: jax.Array, y: jax.Array) -> jax.Array:
    if kind == "xent":
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(out, y))
    return jnp.mean(jnp.sum((out - y) ** 2, axis=-1))


@functools.lru_cache(maxsize=64)
def _program(apply, reg, optimizer, loss, batch_size, n_batches, epochs):
    spec = optim.get(optimizer)  # the one optimizer registry; its other settings at default

    def run(params, mask, lam, lr, key, x, y):
        opt = spec.build(learning_rate=lr)
        state = opt.init(params)

        def objective(p, xb, yb):
            data = _loss(loss, apply(p, xb), yb)
            pen = reg(p) if reg is not None else 0.0
            return data + lam * pen, data

        def step(carry, idx):
            p, s = carry
            (_, data), g = jax.value_and_grad(objective, has_aux=True)(p, x[idx], y[idx])
            g = jax.tree.map(jnp.multiply, g, mask)
            upd, s = opt.update(g, s, p)
            p = jax.tree.map(jnp.multiply, optax.apply_updates(p, upd), mask)
            return (p, s), data

        def epoch(carry, k):
            perm = jax.random.permutation(k, x.shape[0])[: n_batches * batch_size]
            carry, losses = jax.lax.scan(step, carry, perm.reshape(n_batches, batch_size))
            return carry, jnp.mean(losses)

        (params, _), losses = jax.lax.scan(epoch, (params, state), jax.random.split(key, epochs))
        return params, losses

    return jax.jit(run)


def train(
    apply: Callable[[Any, jax.Array], jax.Array],
    params: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    reg: Regularizer | None = None,
    loss: str = "xent",
    optimizer: str = "adam",
    lr: float = 1e-3,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
    mask: Any | None = None,
) -> tuple[Any, np.ndarray]:
    """Train ``params`` on mean ``loss`` + reg(params); returns (params, per-epoch data loss).

    ``reg`` carries its own λ (``reg.lam``). ``mask`` (a pytree of 0/1 like ``params``)
    freezes pruned entries at exactly 0: gradients are masked before the optimizer and the
    parameters after each update. ``loss``: "xent" (integer labels) or "mse" (targets).
    """
    if optimizer not in optim.OPTIMIZERS:
        raise unknown_name("optimizer", optimizer, optim.OPTIMIZERS)
    if loss not in LOSSES:
        raise unknown_name("loss", loss, LOSSES)
    check_real("lr", lr, low=0.0, low_open=True)
    check_int("epochs", epochs, low=1)
    check_int("batch_size", batch_size, low=1)
    n = len(x)
    if batch_size > n:
        raise ConfigError(f"batch_size must be <= the {n} training examples, got {batch_size}")
    lam = 0.0
    unit = None
    if reg is not None:
        reg.mask(params)  # raises ConfigError naming the parameter when nothing/unsupported
        lam, unit = reg.lam, dataclasses.replace(reg, lam=1.0)
    run = _program(apply, unit, optimizer, loss, batch_size, n // batch_size, epochs)
    mask = ones_mask(params) if mask is None else mask
    out, losses = run(
        params,
        mask,
        jnp.float32(lam),
        jnp.float32(lr),
        jax.random.PRNGKey(seed),
        jnp.asarray(x),
        jnp.asarray(y),
    )
    return out, np.asarray(losses)


def predict(apply: Callable, params: Any, x: np.ndarray) -> np.ndarray:
    """Model outputs on ``x``."""
    return np.asarray(apply(params, jnp.asarray(x)))


def accuracy(apply: Callable, params: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of ``x`` classified as ``y`` (argmax of the logits)."""
    return float(np.mean(predict(apply, params, x).argmax(-1) == np.asarray(y)))
