"""The regularizer base class and the zero-safe arithmetic its kinds share.

A regularizer is a frozen object; ``reg(params)`` returns λ·Σ_t R(w_t), the sum over the
*selected* array leaves w_t of a parameter pytree (a list of dicts, an Equinox or Flax model,
…); see :mod:`algoreg.regularizers.select` for ``select`` and ``layout``. ``reg.grad(params)``
gives λ·∇ in closed form (each kind's docstring states it). ``degree`` d states
R(cw) = c^d R(w) for c > 0 (0: scale-invariant).

Everything is safe at zero: an all-zero tensor (or group) gives value 0 and a finite gradient;
|x| is written x·sign(x) so that autodiff yields the minimal subgradient sign(0) = 0, equal to
the closed forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_real
from .select import Selector, check_layout, is_float_array, named_leaves, selector

# --------------------------------------------------------------------------------------------
# safe elementary pieces


def safe_abs(x: jax.Array) -> jax.Array:
    """|x| whose autodiff derivative is sign(x) (0 at 0)."""
    return x * jax.lax.stop_gradient(jnp.sign(x))


def safe_div(num: jax.Array, den: jax.Array) -> jax.Array:
    """num/den where den > 0, else 0 — finite gradient in both where-branches."""
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def safe_sqrt(x: jax.Array) -> jax.Array:
    """√x with gradient 0 (not ∞) at x = 0."""
    ok = x > 0
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


# --------------------------------------------------------------------------------------------
# base class


@dataclass(frozen=True)
class Regularizer:
    """λ·Σ_t R(w_t) over the selected floating leaves of a parameter pytree."""

    lam: float = 1.0
    select: Selector = "weights"
    layout: str = "out_in"

    name: ClassVar[str]
    degree: ClassVar[float | None]
    min_ndim: ClassVar[int] = 0

    def __post_init__(self) -> None:
        check_real("lam", self.lam, low=0.0)
        check_layout(self.layout)
        selector(self.select)

    # ---- per tensor ----
    def tensor_value(self, w: jax.Array) -> jax.Array:
        """R(w) of one tensor, without λ."""
        raise NotImplementedError

    def tensor_grad(self, w: jax.Array) -> jax.Array:
        """∇R(w) of one tensor in closed form."""
        raise NotImplementedError

    # ---- selection ----
    def mask(self, params: Any) -> list[bool]:
        """Which leaves (in flatten order) are regularized; raises if none or if unsupported."""
        pick = selector(self.select)
        flags = []
        for name, leaf in named_leaves(params):
            chosen = is_float_array(leaf) and bool(pick(name, leaf))
            if chosen and leaf.ndim < self.min_ndim:
                raise ConfigError(
                    f"regularizer {self.name!r} needs parameters with ndim >= {self.min_ndim} "
                    f"(a matrix or conv kernel); parameter {name!r} has shape {tuple(leaf.shape)}"
                    f" (select={self.select!r})"
                )
            flags.append(chosen)
        if not any(flags):
            names = [n for n, leaf in named_leaves(params) if is_float_array(leaf)]
            raise ConfigError(
                f"regularizer {self.name!r} with select={self.select!r} matches no parameter; "
                f"floating parameters: {', '.join(names) if names else '(none)'}"
            )
        return flags

    def selected(self, params: Any) -> list[tuple[str, jax.Array]]:
        """(name, leaf) of the regularized leaves."""
        leaves = named_leaves(params)
        return [nl for nl, f in zip(leaves, self.mask(params), strict=True) if f]

    # ---- whole pytree ----
    def __call__(self, params: Any) -> jax.Array:
        """λ·Σ_t R(w_t)."""
        terms = [self.tensor_value(w) for _, w in self.selected(params)]
        return self.lam * sum(terms[1:], terms[0])

    def per_tensor(self, params: Any) -> dict[str, float]:
        """R(w_t) (without λ) for each selected leaf, by name — for reports."""
        return {n: float(self.tensor_value(w)) for n, w in self.selected(params)}

    def grad(self, params: Any) -> Any:
        """λ·∇ in closed form, a pytree like ``params`` (zeros on unselected array leaves)."""
        flat, treedef = jax.tree_util.tree_flatten(params)
        out = []
        for leaf, f in zip(flat, self.mask(params), strict=True):
            if f:
                out.append(self.lam * self.tensor_grad(jnp.asarray(leaf)))
            elif is_float_array(leaf):
                out.append(jnp.zeros_like(leaf))
            else:
                out.append(leaf)
        return jax.tree_util.tree_unflatten(treedef, out)
