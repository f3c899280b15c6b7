"""Spectral summaries of a matrix and balancedness of a factorization (JAX, jit-friendly)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

# singular values in decreasing order, batched, differentiable and safe from gesdd's failures
from ..penalties.svd import singular_values


def effective_rank_of(s: jax.Array) -> jax.Array:
    """Roy & Vetterli's effective rank exp(−Σ q log q), q = σ/Σσ, from singular values."""
    total = jnp.sum(s, -1, keepdims=True)
    q = s / jnp.where(total > 0, total, 1.0)
    entropy = -jnp.sum(jax.scipy.special.xlogy(q, q), -1)
    return jnp.where(total[..., 0] > 0, jnp.exp(entropy), 0.0)


def effective_rank(W: jax.Array) -> jax.Array:
    """Effective rank of ``W``: 1 for rank one, r for r equal singular values, 0 for W = 0."""
    return effective_rank_of(singular_values(W))


def numerical_rank(W: jax.Array, rtol: float | None = None) -> jax.Array:
    """Number of σ_i > rtol·σ_1 (default rtol = max(m, n)·machine epsilon, as NumPy)."""
    W = jnp.asarray(W)
    tol = max(W.shape[-2:]) * float(jnp.finfo(W.dtype).eps) if rtol is None else rtol
    s = singular_values(W)
    return jnp.sum(s > tol * s[..., :1], -1)


def balancedness(factors: Sequence[jax.Array]) -> jax.Array:
    """max_j ‖W_{j+1}ᵀW_{j+1} − W_jW_jᵀ‖_F (Du, Hu, Lee 2018); 0 for a single factor.

    Gradient flow on a linear factorization conserves each W_{j+1}ᵀW_{j+1} − W_jW_jᵀ.
    """
    gaps = [jnp.linalg.norm(b.T @ b - a @ a.T) for a, b in itertools.pairwise(factors)]
    return jnp.max(jnp.stack(gaps)) if gaps else jnp.zeros((), jnp.asarray(factors[0]).dtype)
