"""Spectral regularizers on each selected leaf's matrix view M (see
:mod:`algoreg.regularizers.select`): the nuclear norm, the ratio ρ = ‖M‖_*/‖M‖_F and ρ².

Values and closed-form gradients are those of the matrix penalties of the same names in
:mod:`algoreg.penalties` (one formula for both): R(M) = f(σ(M)) with gradient
U diag(f'(σ)) Vᵀ for the thin SVD M = U diag(σ) Vᵀ, finite at rank-deficient and zero M.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax

from .. import penalties
from .base import Regularizer
from .select import matrix_view, tensor_view


@dataclass(frozen=True)
class Spectral(Regularizer):
    """R(w) = the matrix penalty ``penalty``'s R(M) (λ = 1) of w's matrix view M."""

    min_ndim: ClassVar[int] = 2
    penalty: ClassVar[penalties.SpectralPenalty]

    def matrix_value(self, M: jax.Array) -> jax.Array:
        """R(M) of one matrix."""
        return self.penalty.raw(M)

    def matrix_grad(self, M: jax.Array) -> jax.Array:
        """∇R(M) = U diag(f'(σ)) Vᵀ in closed form."""
        return self.penalty.raw_grad(M)

    def tensor_value(self, w):
        return self.matrix_value(matrix_view(w, self.layout))

    def tensor_grad(self, w):
        return tensor_view(self.matrix_grad(matrix_view(w, self.layout)), w.shape, self.layout)


@dataclass(frozen=True)
class Nuclear(Spectral):
    """‖M‖_* = Σσ per weight matrix; gradient UVᵀ (a subgradient where M is rank-deficient)."""

    name: ClassVar[str] = "nuclear"
    degree: ClassVar[float | None] = 1.0
    penalty: ClassVar[penalties.SpectralPenalty] = penalties.Nuclear()


@dataclass(frozen=True)
class Ratio(Spectral):
    """ρ = ‖M‖_*/‖M‖_F ∈ [1, √rank] per weight matrix (Zhao 2022); 0 at M = 0.

    Gradient UVᵀ/‖M‖_F − ‖M‖_*·M/‖M‖_F³ (0 at M = 0).
    """

    name: ClassVar[str] = "ratio"
    degree: ClassVar[float | None] = 0.0
    penalty: ClassVar[penalties.SpectralPenalty] = penalties.Ratio()


@dataclass(frozen=True)
class RatioSquare(Spectral):
    """ρ² = (‖M‖_*/‖M‖_F)² ∈ [1, rank] per weight matrix — the matrix analogue of H_S.

    Gradient 2ρ·∇ρ.
    """

    name: ClassVar[str] = "ratio_square"
    degree: ClassVar[float | None] = 0.0
    penalty: ClassVar[penalties.SpectralPenalty] = penalties.Ratio()

    def matrix_value(self, M):
        return super().matrix_value(M) ** 2

    def matrix_grad(self, M):
        return 2.0 * super().matrix_value(M) * super().matrix_grad(M)


SPECTRAL: dict[str, type[Spectral]] = {c.name: c for c in (Nuclear, Ratio, RatioSquare)}
