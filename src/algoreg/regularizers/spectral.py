"""Spectral regularizers on each selected leaf's matrix view M (see
:mod:`algoreg.regularizers.select`): the nuclear norm, the ratio ρ = ‖M‖_*/‖M‖_F and ρ².

Closed-form gradients come from the thin SVD M = U diag(σ) Vᵀ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from ..penalties.svd import singular_values, spectral_gradient, thin_svd
from .base import Regularizer, safe_div, safe_sqrt
from .select import matrix_view, tensor_view


def _ratio(s):
    return safe_div(jnp.sum(s), safe_sqrt(jnp.sum(s * s)))


def _ratio_grad(M: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(ρ, ∇ρ) for ρ = ‖M‖_*/‖M‖_F: ∇ρ = UVᵀ/‖M‖_F − ‖M‖_*·M/‖M‖_F³ (0 at M = 0)."""
    U, s, Vh = thin_svd(M)
    nuc, fro2 = jnp.sum(s), jnp.sum(s * s)
    fro = safe_sqrt(fro2)
    polar = spectral_gradient(jnp.ones_like(s), U, Vh)
    return safe_div(nuc, fro), safe_div(polar, fro) - safe_div(nuc * M, fro * fro2)


@dataclass(frozen=True)
class Spectral(Regularizer):
    min_ndim: ClassVar[int] = 2

    def spectral(self, s: jax.Array) -> jax.Array:
        """f(σ) of the singular values."""
        raise NotImplementedError

    def matrix_grad(self, M: jax.Array) -> jax.Array:
        """∇f(σ(M)) = U diag(f'(σ)) Vᵀ."""
        raise NotImplementedError

    def tensor_value(self, w):
        return self.spectral(singular_values(matrix_view(w, self.layout)))

    def tensor_grad(self, w):
        return tensor_view(self.matrix_grad(matrix_view(w, self.layout)), w.shape, self.layout)


@dataclass(frozen=True)
class Nuclear(Spectral):
    """‖M‖_* = Σσ per weight matrix; gradient UVᵀ (a subgradient where M is rank-deficient)."""

    name: ClassVar[str] = "nuclear"
    degree: ClassVar[float | None] = 1.0

    def spectral(self, s):
        return jnp.sum(s)

    def matrix_grad(self, M):
        U, s, Vh = thin_svd(M)
        return spectral_gradient(jnp.ones_like(s), U, Vh)


@dataclass(frozen=True)
class Ratio(Spectral):
    """ρ = ‖M‖_*/‖M‖_F ∈ [1, √rank] per weight matrix (Zhao 2022); 0 at M = 0.

    Gradient UVᵀ/‖M‖_F − ‖M‖_*·M/‖M‖_F³ (0 at M = 0).
    """

    name: ClassVar[str] = "ratio"
    degree: ClassVar[float | None] = 0.0

    def spectral(self, s):
        return _ratio(s)

    def matrix_grad(self, M):
        return _ratio_grad(M)[1]


@dataclass(frozen=True)
class RatioSquare(Spectral):
    """ρ² = (‖M‖_*/‖M‖_F)² ∈ [1, rank] per weight matrix — the matrix analogue of H_S.

    Gradient 2ρ·∇ρ.
    """

    name: ClassVar[str] = "ratio_square"
    degree: ClassVar[float | None] = 0.0

    def spectral(self, s):
        return _ratio(s) ** 2

    def matrix_grad(self, M):
        rho, g = _ratio_grad(M)
        return 2.0 * rho * g


SPECTRAL: dict[str, type[Spectral]] = {c.name: c for c in (Nuclear, Ratio, RatioSquare)}
