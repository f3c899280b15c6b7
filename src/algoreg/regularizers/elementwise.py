"""Element-wise regularizers: L1, Hoyer and Hoyer-square.

They flatten a tensor to a vector w of N entries and accept any ndim (biases too). In the
closed-form gradients, s = sign(w) (0 at 0) and ‖·‖ = ‖·‖₂.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from .base import Regularizer, safe_abs, safe_div, safe_sqrt


@dataclass(frozen=True)
class L1(Regularizer):
    """Σ|w| (lasso); gradient s."""

    name: ClassVar[str] = "l1"
    degree: ClassVar[float | None] = 1.0

    def tensor_value(self, w):
        return jnp.sum(safe_abs(w))

    def tensor_grad(self, w):
        return jnp.sign(w)


def _l1_l2sq(w: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(‖w‖₁, ‖w‖₂²)."""
    return jnp.sum(safe_abs(w)), jnp.sum(w * w)


@dataclass(frozen=True)
class Hoyer(Regularizer):
    """H = ‖w‖₁/‖w‖₂ ∈ [1, √N] (Hoyer 2004), 0 at w = 0; scale-invariant.

    Gradient s/‖w‖₂ − ‖w‖₁·w/‖w‖₂³.
    """

    name: ClassVar[str] = "hoyer"
    degree: ClassVar[float | None] = 0.0

    def tensor_value(self, w):
        a, b = _l1_l2sq(w)
        return safe_div(a, safe_sqrt(b))

    def tensor_grad(self, w):
        a, b = _l1_l2sq(w)
        n2 = safe_sqrt(b)
        return safe_div(jnp.sign(w), n2) - safe_div(a * w, n2 * b)


@dataclass(frozen=True)
class HoyerSquare(Regularizer):
    """H_S = (‖w‖₁/‖w‖₂)² ∈ [1, N] (DeepHoyer, Yang et al. 2020): 1 when 1-sparse, N when
    constant.

    Gradient 2‖w‖₁·s/‖w‖₂² − 2‖w‖₁²·w/‖w‖₂⁴; ⟨∇H_S, w⟩ = 0 (Euler, degree 0).
    """

    name: ClassVar[str] = "hoyer_square"
    degree: ClassVar[float | None] = 0.0

    def tensor_value(self, w):
        a, b = _l1_l2sq(w)
        return safe_div(a * a, b)

    def tensor_grad(self, w):
        a, b = _l1_l2sq(w)
        return safe_div(2.0 * a * jnp.sign(w), b) - safe_div(2.0 * a * a * w, b * b)
