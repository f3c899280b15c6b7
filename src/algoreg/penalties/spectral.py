"""Penalties on the end-to-end matrix.

Each penalty R is a small frozen object: ``value(W) = lam·R(W)`` and ``grad(W) = lam·∇R(W)``
for a matrix or a batch of matrices (leading axes), plus properties used by the contract
tests: ``convex``, and ``degree`` d with R(cW) = c^d R(W) for c > 0 (0 = scale-invariant,
None = not homogeneous). Spectral penalties are R(W) = f(σ(W)) with the closed-form gradient
U diag(f'(σ)) Vᵀ; training differentiates through :func:`singular_values`, which gives the
same closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from ..errors import check_int, check_real, unknown_name
from .svd import singular_values, spectral_gradient


def _safe_ratio(total: jax.Array, sumsq: jax.Array) -> jax.Array:
    """total/√sumsq, 0 where sumsq = 0 — both where-branches finite, so the gradient is too."""
    ok = sumsq > 0
    return jnp.where(ok, total / jnp.sqrt(jnp.where(ok, sumsq, 1.0)), 0.0)


def _safe_divide(num: jax.Array, den: jax.Array) -> jax.Array:
    """num/den where den > 0, else 0 — with a zero (not NaN) gradient in the masked branch."""
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


@dataclass(frozen=True)
class Penalty:
    """Base class: λ·R(W) of the end-to-end matrix."""

    lam: float = 1.0

    name: ClassVar[str]
    convex: ClassVar[bool]
    degree: ClassVar[float | None]

    def __post_init__(self) -> None:
        check_real("lam", self.lam, low=0.0)

    def raw(self, W: jax.Array) -> jax.Array:
        """R(W) without the weight λ (differentiable, batched on leading axes)."""
        raise NotImplementedError

    def raw_grad(self, W: jax.Array) -> jax.Array:
        """∇R(W) in closed form."""
        raise NotImplementedError

    def value(self, W: jax.Array) -> jax.Array:
        """λ·R(W)."""
        return self.lam * self.raw(jnp.asarray(W))

    def grad(self, W: jax.Array) -> jax.Array:
        """λ·∇R(W) in closed form."""
        return self.lam * self.raw_grad(jnp.asarray(W))

    def static_key(self) -> tuple:
        """Everything but λ: penalties with equal keys can share one batched program."""
        fields = {k: v for k, v in self.__dict__.items() if k != "lam"}
        return (self.name, tuple(sorted(fields.items())))


@dataclass(frozen=True)
class SpectralPenalty(Penalty):
    """R(W) = f(σ(W)) for a symmetric function f of the singular values.

    ``refresh_every`` = k > 1 makes training SVD-light: the engine computes the SVD
    W = UΣVᵀ once every k steps and in between differentiates the surrogate
    R̃(W) = f(diag(UᵀWV)) with U, V held fixed — equal to R, with the same gradient
    U diag(f'(σ)) Vᵀ, at each refresh, and a first-order approximation between refreshes.
    It is not a drop-in replacement: measured on 100×100 rank-5 completion (2000 observed,
    depth 1, Adam lr 1e-3, 50k steps, 3 seeds), the ratio penalty's test error went from
    0.0098 (exact) to 0.018 (k = 10) and 0.12 (k = 100) at λ = 1e-2, and from 0.0011 to
    0.0086 and 0.115 at λ = 1e-3, for 4× / 11–25× less wall time. The singular vectors of the
    small, decaying singular values rotate quickly, and stale ones push the wrong directions.
    """

    refresh_every: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("refresh_every", self.refresh_every, low=1)

    def spectral(self, s: jax.Array) -> jax.Array:
        """f(σ) for singular values on the last axis."""
        raise NotImplementedError

    def cache(self, W: jax.Array):
        """What the surrogate holds fixed between refreshes: the thin SVD factors (U, Vᵀ)."""
        U, _, Vh = jnp.linalg.svd(W, full_matrices=False)
        return U, Vh

    def surrogate(self, W: jax.Array, cache) -> jax.Array:
        """R̃(W) = f(diag(UᵀWV)) for the cached U, V (gradients do not flow into the cache)."""
        U, Vh = jax.lax.stop_gradient(cache)
        return self.spectral(jnp.einsum("...ik,...ij,...kj->...k", U, W, Vh))

    def raw(self, W: jax.Array) -> jax.Array:
        return self.spectral(singular_values(W))

    def raw_grad(self, W: jax.Array) -> jax.Array:
        U, s, Vh = jnp.linalg.svd(W, full_matrices=False)
        df = jax.grad(lambda s: jnp.sum(self.spectral(s)))(s)
        return spectral_gradient(df, U, Vh)


@dataclass(frozen=True)
class PolarCached(SpectralPenalty):
    """A spectral penalty whose SVD-light surrogate needs only the polar factor P = UVᵀ."""

    def cache(self, W: jax.Array) -> jax.Array:
        U, _, Vh = jnp.linalg.svd(W, full_matrices=False)
        return U @ Vh


@dataclass(frozen=True)
class Ratio(PolarCached):
    """‖W‖_*/‖W‖_F = Σσ/√(Σσ²) (Zhao 2022): scale-invariant, in [1, √rank]; 0 at W = 0.

    ∇ = UVᵀ/‖W‖_F − ‖W‖_*·W/‖W‖_F³.
    """

    name: ClassVar[str] = "ratio"
    convex: ClassVar[bool] = False
    degree: ClassVar[float | None] = 0.0

    def spectral(self, s: jax.Array) -> jax.Array:
        return _safe_ratio(jnp.sum(s, -1), jnp.sum(s**2, -1))

    def surrogate(self, W: jax.Array, cache: jax.Array) -> jax.Array:
        """⟨P, W⟩/‖W‖_F with P fixed: gradient P/‖W‖_F − ⟨P, W⟩W/‖W‖_F³ (exact at refresh)."""
        P = jax.lax.stop_gradient(cache)
        return _safe_ratio(jnp.sum(P * W, (-2, -1)), jnp.sum(W**2, (-2, -1)))


@dataclass(frozen=True)
class Nuclear(PolarCached):
    """Nuclear norm ‖W‖_* = Σσ; gradient (a subgradient where W is rank-deficient) UVᵀ."""

    name: ClassVar[str] = "nuclear"
    convex: ClassVar[bool] = True
    degree: ClassVar[float | None] = 1.0

    def spectral(self, s: jax.Array) -> jax.Array:
        return jnp.sum(s, -1)

    def surrogate(self, W: jax.Array, cache: jax.Array) -> jax.Array:
        """⟨P, W⟩ with P fixed: gradient P (exact at refresh)."""
        return jnp.sum(jax.lax.stop_gradient(cache) * W, (-2, -1))


@dataclass(frozen=True)
class Frobenius(Penalty):
    """Squared Frobenius norm ‖W‖_F² = Σ W_ij² (weight decay on the end-to-end matrix)."""

    name: ClassVar[str] = "frobenius"
    convex: ClassVar[bool] = True
    degree: ClassVar[float | None] = 2.0

    def raw(self, W: jax.Array) -> jax.Array:
        return jnp.sum(W**2, axis=(-2, -1))

    def raw_grad(self, W: jax.Array) -> jax.Array:
        return 2.0 * W


@dataclass(frozen=True)
class Schatten(SpectralPenalty):
    """Smoothed Schatten-p quasi-norm to the p: Σ_i [(σ_i² + ε²)^{p/2} − ε^p], p ∈ (0, 1].

    ε > 0 keeps the gradient p·σ(σ² + ε²)^{p/2−1} finite at σ = 0 (it is ≤ p·ε^{p−1});
    ε = 0 gives Σσ^p exactly (the nuclear norm at p = 1), whose gradient is infinite at σ = 0
    for p < 1.
    """

    p: float = 0.5
    eps: float = 1e-4

    name: ClassVar[str] = "schatten"
    convex: ClassVar[bool] = False
    degree: ClassVar[float | None] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_real("p", self.p, low=0.0, high=1.0, low_open=True)
        check_real("eps", self.eps, low=0.0)

    def spectral(self, s: jax.Array) -> jax.Array:
        return jnp.sum((s**2 + self.eps**2) ** (self.p / 2) - self.eps**self.p, -1)


@dataclass(frozen=True)
class EffectiveRank(SpectralPenalty):
    """Effective rank (Roy & Vetterli 2007): exp(H(q)), q = σ/Σσ, H = −Σ q log q.

    Between 1 and rank(W), scale-invariant. The entropy is taken as −Σ q log(q + δ) with
    δ = 1e-12, which changes the value by < 1e-11 but keeps the gradient finite at σ_i = 0
    (where the exact one-sided derivative is +∞). 0 at W = 0.
    """

    name: ClassVar[str] = "effective_rank"
    convex: ClassVar[bool] = False
    degree: ClassVar[float | None] = 0.0

    def spectral(self, s: jax.Array) -> jax.Array:
        total = jnp.sum(s, -1, keepdims=True)
        q = _safe_divide(s, total)
        entropy = -jnp.sum(q * jnp.log(q + 1e-12), -1)
        return jnp.where(total[..., 0] > 0, jnp.exp(entropy), 0.0)


PENALTIES: dict[str, type[Penalty]] = {
    cls.name: cls for cls in (Ratio, Nuclear, Frobenius, Schatten, EffectiveRank)
}


def get(name: str, **params) -> Penalty:
    """A penalty by registry name, e.g. ``get("ratio", lam=0.01)``."""
    if name not in PENALTIES:
        raise unknown_name("penalty", name, PENALTIES)
    return PENALTIES[name](**params)


def ratio(lam: float = 1.0, refresh_every: int = 1) -> Ratio:
    """λ·‖W‖_*/‖W‖_F (``refresh_every``: see :class:`SpectralPenalty`)."""
    return Ratio(lam, refresh_every)


def nuclear(lam: float = 1.0, refresh_every: int = 1) -> Nuclear:
    """λ·‖W‖_*."""
    return Nuclear(lam, refresh_every)


def frobenius(lam: float = 1.0) -> Frobenius:
    """λ·‖W‖_F²."""
    return Frobenius(lam)


def schatten(
    lam: float = 1.0, p: float = 0.5, eps: float = 1e-4, refresh_every: int = 1
) -> Schatten:
    """λ·Σ[(σ² + ε²)^{p/2} − ε^p]."""
    return Schatten(lam, refresh_every, p, eps)


def effective_rank(lam: float = 1.0, refresh_every: int = 1) -> EffectiveRank:
    """λ·erank(W)."""
    return EffectiveRank(lam, refresh_every)
