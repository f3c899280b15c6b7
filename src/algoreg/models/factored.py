"""A factored chain W = F M₁ ⋯ M_j Gᵀ (+ μ + b1ᵀ + 1cᵀ) that never needs its m × n product.

F ∈ ℝ^{m×k}, cores M_i ∈ ℝ^{k×k} (j = depth − 2 of them), G ∈ ℝ^{n×k}. With ``bias`` the
standard recommender terms are added: a global mean μ, row (user) biases b ∈ ℝ^m and column
(item) biases c ∈ ℝ^n, none of which the spectral penalty sees.

What the engine reads besides the protocol's ``product``:

- ``factors(params)`` = (L, R) with W = L Rᵀ exactly (the biases as three extra columns,
  L = [F M₁⋯M_j, b + μ, 1], R = [G, 1, c]): a problem with sparse observations evaluates W only
  at its entries, ⟨L_i, R_j⟩, in O(|Ω|k), and truth distances by k × k Gram matrices;
- ``spectrum(params)``: the exact singular values of the penalized part P = F M₁⋯M_j Gᵀ from
  the QR cores (:func:`~algoreg.penalties.factored.factored_singular_values`), so the nuclear,
  Frobenius, ratio, Schatten and effective-rank penalties of the product cost
  O((m + n)k² + k³) a step instead of a dense SVD, with gradients finite at repeated and zero
  singular values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from ..errors import check_bool, check_int, check_real
from ..penalties.factored import factored_singular_values
from .base import register

Params = tuple[jax.Array, ...]  # (F, M₁, …, M_j, G) then (b, c, μ) with bias


@register
@dataclass(frozen=True)
class Factored:
    """W = F M₁⋯M_j Gᵀ of width ``rank`` (k) and ``depth`` = j + 2 factors (2: F Gᵀ), every
    factor started with i.i.d. N(0, s²) entries, s = ``init_scale`` (α/√k with ``scaled``);
    ``bias`` adds μ + b1ᵀ + 1cᵀ (started at 0, never penalized)."""

    rank: int = 32
    depth: int = 2
    init_scale: float = 1e-2
    scaled: bool = False
    bias: bool = False

    kind: ClassVar[str] = "factored"

    def __post_init__(self) -> None:
        check_int("rank", self.rank, low=1)
        check_int("depth", self.depth, low=2)
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)
        check_bool("scaled", self.scaled)
        check_bool("bias", self.bias)

    @property
    def entry_scale(self) -> float:
        """Standard deviation s of every factor's entries at the start."""
        return self.init_scale / math.sqrt(self.rank) if self.scaled else self.init_scale

    def init_params(self, key: jax.Array, shape: tuple[int, int], dtype: Any = jnp.float32):
        """(F, M₁, …, G[, b, c, μ]) for an m × n problem (a pure function of ``key``)."""
        m, n = shape
        k, s = self.rank, self.entry_scale
        keys = jax.random.split(key, self.depth)
        sizes = [m] + [k] * (self.depth - 2) + [n]
        pairs = zip(keys, sizes, strict=True)
        params = tuple(s * jax.random.normal(kk, (d, k), dtype) for kk, d in pairs)
        if self.bias:
            params += (jnp.zeros(m, dtype), jnp.zeros(n, dtype), jnp.zeros((), dtype))
        return params

    def _chain(self, params: Params) -> tuple[jax.Array, jax.Array]:
        """(F M₁⋯M_j, G): the penalized part P = (F M₁⋯M_j) Gᵀ as a pair."""
        L = params[0]
        for M in params[1 : self.depth - 1]:
            L = L @ M
        return L, params[self.depth - 1]

    def factors(self, params: Params) -> tuple[jax.Array, jax.Array]:
        """(L, R) with W = L Rᵀ exactly (biases as extra columns, see the module)."""
        L, R = self._chain(params)
        if not self.bias:
            return L, R
        b, c, mu = params[self.depth :]
        ones_m, ones_n = jnp.ones_like(b), jnp.ones_like(c)
        L = jnp.concatenate([L, (b + mu)[:, None], ones_m[:, None]], axis=1)
        R = jnp.concatenate([R, ones_n[:, None], c[:, None]], axis=1)
        return L, R

    def spectrum(self, params: Params) -> jax.Array:
        """The singular values of the penalized part F M₁⋯M_j Gᵀ (all nonzero ones), exact
        from the k × k QR cores."""
        return factored_singular_values(*self._chain(params))

    def product(self, params: Params) -> jax.Array:
        """W = F M₁⋯M_j Gᵀ (+ μ + b1ᵀ + 1cᵀ): the m × n matrix (small problems only)."""
        L, R = self.factors(params)
        return L @ R.T

    def diagnostics(self, params: Params) -> dict[str, jax.Array]:
        """``balance_ratio`` ‖F‖_F/‖G‖_F and ``norm_gap`` ‖F‖_F² − ‖G‖_F² (conserved by gradient
        flow at depth 2 without a penalty), in O((m + n)k)."""
        F, G = params[0], params[self.depth - 1]
        f2, g2 = jnp.sum(F**2), jnp.sum(G**2)
        return {"norm_gap": f2 - g2, "balance_ratio": jnp.sqrt(f2 / jnp.where(g2 > 0, g2, 1.0))}

    def param_count(self, shape: tuple[int, int]) -> int:
        """(m + n)k + (depth − 2)k² (+ m + n + 1 with bias)."""
        m, n = shape
        extra = m + n + 1 if self.bias else 0
        return (m + n) * self.rank + (self.depth - 2) * self.rank**2 + extra

    def step_flops(self, shape: tuple[int, int]) -> float:
        """A dense problem's FGᵀ forward and backward (6mnk) plus the penalty's two thin QRs
        and k × k core (≈ 4(m + n)k² + 22k³) and the chain's (depth − 2) m×k×k products; a
        sparse problem's step is far cheaper (6|Ω|k for the data term)."""
        m, n = shape
        k = self.rank
        chain = 6.0 * (self.depth - 2) * m * k * k
        return 6.0 * m * n * k + 4.0 * (m + n) * k * k + 22.0 * k**3 + chain

    def label(self, optimizer: str) -> str:
        """E.g. ``factored k=32 adam`` (``depth 3``, ``+bias`` when set)."""
        label = f"factored k={self.rank}"
        if self.depth > 2:
            label += f" depth {self.depth}"
        if self.bias:
            label += " +bias"
        return f"{label} {optimizer}"
