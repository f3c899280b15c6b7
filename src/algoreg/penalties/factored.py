"""Exact singular values of a factored product W = L Rᵀ from its small cores.

For L (m × k) and R (n × k) take thin QRs L = Q_L R_L, R = Q_R R_R; then
W = Q_L (R_L R_Rᵀ) Q_Rᵀ with orthonormal Q's, so the nonzero singular values of the m × n
matrix W are those of the k × k core S = R_L R_Rᵀ. Every spectral penalty f(σ) with f(0) = 0
per value (ratio, nuclear, Frobenius, Schatten, effective rank) is therefore exact from the k
values of S, in O((m + n)k² + k³) instead of a dense SVD's O(mn·min(m, n)).

Derivative. With S = U_S Σ V_Sᵀ, W's singular vectors on its range are U = Q_L U_S and
V = Q_R V_S, and Lewis's dσ_i = u_iᵀ dW v_i with dW = dL Rᵀ + L dRᵀ gives

    dσ = diag(U_Sᵀ Q_Lᵀ dL R_Rᵀ V_S) + diag(U_Sᵀ R_L dRᵀ Q_R V_S),

so ∇_L f = Q_L U_S diag(f') V_Sᵀ R_R and ∇_R f = Q_R V_S diag(f') U_Sᵀ R_L. No derivative of the
QR or of singular vectors is taken (they are constants here): the gradient is finite wherever f'
is, at repeated singular values and at zero ones (rank-deficient L or R) alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap

from .svd import thin_svd


def _one_at_a_time(fn: Callable[[jax.Array], Any]) -> Callable[[jax.Array], Any]:
    """``fn`` of one matrix that, under ``vmap`` on a CPU, runs one matrix at a time.

    On a CPU a batched LAPACK call (QR, SVD) splits its batch over XLA's thread pool and waits;
    two of them running at once (the QRs of F and G in a vmapped step) can each wait for
    threads the other holds — measured with jax 0.10.2 on 2 cores: a vmapped factored model with
    biases at k = 64 hung forever. One matrix at a time (``lax.map``) never splits; other
    backends keep the batched call."""

    @custom_vmap
    def one(A):
        return fn(A)

    @one.def_vmap
    def _rule(axis_size, in_batched, A):
        (batched,) = in_batched
        if batched and jax.default_backend() == "cpu":
            out = jax.lax.map(one, A)
        else:  # unbatched, or batched on the leading axis on another backend
            out = fn(A)
        return out, jax.tree_util.tree_map(lambda _: batched, out)

    return one


def _qr_pair(A: jax.Array) -> tuple[jax.Array, jax.Array]:
    Q, R = jnp.linalg.qr(A)
    return Q, R


_qr = _one_at_a_time(_qr_pair)
_core_svd = _one_at_a_time(thin_svd)


def _cores(L: jax.Array, R: jax.Array):
    Ql, Rl = _qr(jax.lax.stop_gradient(L))
    Qr, Rr = _qr(jax.lax.stop_gradient(R))
    U, s, Vh = _core_svd(Rl @ jnp.swapaxes(Rr, -1, -2))
    return Ql, Rl, Qr, Rr, U, s, Vh


@jax.custom_jvp
def factored_singular_values(L: jax.Array, R: jax.Array) -> jax.Array:
    """The min(k_L, k_R, m, n) leading singular values of W = L Rᵀ (every nonzero one),
    descending, from the QR cores (see the module); batched on leading axes."""
    return _cores(L, R)[5]


@factored_singular_values.defjvp
def _factored_jvp(primals, tangents):
    (L, R), (dL, dR) = primals, tangents
    Ql, Rl, Qr, Rr, U, s, Vh = _cores(L, R)
    V = jnp.swapaxes(Vh, -1, -2)
    left = jnp.swapaxes(Ql, -1, -2) @ dL @ jnp.swapaxes(Rr, -1, -2)  # Q_Lᵀ dL R_Rᵀ
    right = Rl @ jnp.swapaxes(dR, -1, -2) @ Qr  # R_L dRᵀ Q_R
    ds = jnp.einsum("...ik,...ij,...jk->...k", U, left + right, V)
    return s, ds


def factored_frobenius_sq(L: jax.Array, R: jax.Array) -> jax.Array:
    """‖L Rᵀ‖_F² = tr(LᵀL RᵀR) in O((m + n)k²) (smooth everywhere)."""
    return jnp.sum((jnp.swapaxes(L, -1, -2) @ L) * (jnp.swapaxes(R, -1, -2) @ R), (-2, -1))


def factored_distance_sq(L: jax.Array, R: jax.Array, U: jax.Array, V: jax.Array) -> jax.Array:
    """‖L Rᵀ − U Vᵀ‖_F² = tr(LᵀL RᵀR) − 2 tr(LᵀU VᵀR) + tr(UᵀU VᵀV), in O((m + n)k²) without
    forming either m × n matrix (clamped at 0 against rounding)."""
    t = jnp.swapaxes
    cross = jnp.sum((t(L, -1, -2) @ U) * (t(R, -1, -2) @ V), (-2, -1))
    d2 = factored_frobenius_sq(L, R) - 2.0 * cross + factored_frobenius_sq(U, V)
    return jnp.maximum(d2, 0.0)
