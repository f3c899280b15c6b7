"""Singular values with a derivative that stays finite at repeated and zero singular values.

For W = U diag(σ) Vᵀ the directional derivative of each singular value is
dσ_k = u_kᵀ dW v_k. Any symmetric spectral function F(W) = f(σ(W)) then has gradient
∇F = U diag(∂f/∂σ) Vᵀ — the closed form of Lewis (1995) — which is well defined at repeated
singular values (where f' takes equal values). JAX's generic SVD derivative also
differentiates U and V through terms 1/(σ_i² − σ_j²) (masked only at exact ties, so near-ties
in float32 risk inf·0); this derivative never forms them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.custom_jvp
def singular_values(W: jax.Array) -> jax.Array:
    """Singular values σ_1 ≥ … ≥ σ_k (k = min(m, n)) of ``W`` (…, m, n), batched on leading axes."""
    return jnp.linalg.svd(W, compute_uv=False)


@singular_values.defjvp
def _singular_values_jvp(primals, tangents):
    (W,), (dW,) = primals, tangents
    U, s, Vh = jnp.linalg.svd(W, full_matrices=False)
    return s, jnp.einsum("...ik,...ij,...kj->...k", U, dW, Vh)


def spectral_gradient(df: jax.Array, U: jax.Array, Vh: jax.Array) -> jax.Array:
    """U diag(df) Vᵀ for stacked thin-SVD factors."""
    return jnp.einsum("...ik,...k,...kj->...ij", U, df, Vh)
