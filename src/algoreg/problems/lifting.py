"""The lifted sensing operator of Ma, Lavaei & Sojoudi (2023), applied one mode at a time.

Symmetric sensing measures 𝒜(M) = [⟨A_i, M⟩]_{i≤m} with symmetric A_i ∈ ℝ^{n×n}. Lifting of
odd order l replaces X ∈ ℝ^{n×r} by a tensor w ∈ ℝ^{(nr)^l} with modes (a_j, k_j), a_j ≤ n,
k_j ≤ r, and measures, for every i = (i_1, …, i_l) ∈ [m]^l,

    y_i = Σ_k Σ_{a,b} w[a_1k_1, …, a_lk_l] w[b_1k_1, …, b_lk_l] Π_j A_{i_j}[a_j, b_j]
        = ⟨A_{i_1} ⊗ ⋯ ⊗ A_{i_l}, S(wwᵀ)⟩,

S the selection contraction that sums the diagonal k-blocks, so that w = vec(X)^{⊗l} gives
y = 𝒜(XXᵀ)^{⊗l} (key identity: f_l(x^{⊗l}) = ¼‖𝒜(xxᵀ)^{⊗l} − b^{⊗l}‖²). The objective is
f_l(w) = ¼‖y − b^{⊗l}‖² and ∇f_l(w) = Σ_i (y − b^{⊗l})_i M_i w with M_i = S∘(⊗_j A_{i_j}).

Neither the m^l × (nr)^{2l} operator nor wwᵀ is ever formed: the first mode is contracted on
both sides of w at once (memory m·(nr)^{2(l−1)}), each further mode adds one measurement index
(m^j·(nr)^{2(l−j)}). w is stored as its mode-1 unfolding, an nr × (nr)^{l−1} matrix; order 1 is
the unlifted Burer–Monteiro variable X itself (n × r).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

Array = jax.Array


def order_of(shape: tuple[int, ...], n: int, r: int) -> int:
    """The lifting order l of a variable of this shape: (n, r) is X itself (l = 1), an
    nr × (nr)^{l−1} unfolding is order l."""
    if tuple(shape) == (n, r):
        return 1
    d = n * r
    order = 1 + round(math.log(shape[1]) / math.log(d)) if d > 1 else 1
    if shape[0] != d or d ** (order - 1) != shape[1]:
        raise ValueError(f"shape {tuple(shape)} is neither X ({n}×{r}) nor a lifted unfolding")
    return order


def measure(W: Array, A: Array, r: int) -> Array:
    """y = 𝒜^{⊗l}(S(wwᵀ)), shape (m,)*l, for the unfolding ``W`` (or 𝒜(XXᵀ), shape (m,),
    for X itself); ``A`` is (m, n, n)."""
    m, n = A.shape[0], A.shape[1]
    order = order_of(W.shape, n, r)
    if order == 1:
        return jnp.einsum("iab,ak,bk->i", A, W, W)
    d = n * r
    T = W.reshape(n, r, -1)
    Z = jnp.einsum("akP,iab,bkQ->iPQ", T, A, T)  # mode 1 on both sides; k₁ summed
    for _ in range(order - 1):
        rest = Z.shape[1] // d
        Z = Z.reshape(-1, n, r, rest, n, r, rest)
        Z = jnp.einsum("IakPbkQ,iab->IiPQ", Z, A).reshape(-1, rest, rest)
    return Z.reshape((m,) * order)


def power(b: Array, order: int) -> Array:
    """b^{⊗l} as an l-way array (l = ``order``)."""
    return functools.reduce(lambda acc, _: acc[..., None] * b, range(order - 1), b)


def loss(W: Array, A: Array, b: Array, r: int) -> Array:
    """f_l = ¼‖𝒜^{⊗l}(S(wwᵀ)) − b^{⊗l}‖² (the unlifted ¼‖𝒜(XXᵀ) − b‖² at order 1)."""
    y = measure(W, A, r)
    return 0.25 * jnp.sum((y - power(b, y.ndim)) ** 2)


def apply_adjoint(Y: Array, A: Array, W: Array, r: int) -> Array:
    """Σ_i Y_i M_i w in the unfolding's shape (order 1: Σ_i Y_i A_i X), one mode at a time
    (memory m^{l−1}·(nr)^l at most); with Y = y − b^{⊗l} it is ∇f_l(w)."""
    m, n = A.shape[0], A.shape[1]
    order = order_of(W.shape, n, r)
    if order == 1:
        return jnp.einsum("i,iab,bk->ak", Y, A, W)
    # mode 1: A_{i_1} on b_1, summed against Y over i_1; k passes through every mode
    Q = jnp.einsum("iI,iab,bkR->IakR", Y.reshape(m, -1), A, W.reshape(n, r, -1))
    for j in range(1, order):
        before, after = (n * r) ** j, (n * r) ** (order - j - 1)
        Q = Q.reshape(m, -1, before, n, r, after)
        Q = jnp.einsum("iIPbkR,iab->IPakR", Q, A)
    return Q.reshape(W.shape)


def extract(W: Array, n: int, r: int, sweeps: int = 30) -> Array:
    """X̂ (n × r) with vec(X̂)^{⊗l} ≈ w: the top left singular vector u of the unfolding,
    refined by higher-order power iterations u ← w(·, u, …, u)/‖·‖ (HOPM), scaled by
    c = ⟨w, u^{⊗l}⟩ as x = sign(c)|c|^{1/l}u (l odd). Order 1: X itself."""
    order = order_of(W.shape, n, r)
    if order == 1:
        return W
    u = jnp.linalg.svd(W, full_matrices=False)[0][:, 0]

    def contract(u):  # w(·, u, …, u): the unfolding times u^{⊗(l−1)}
        return W @ power(u, order - 1).reshape(-1)

    def sweep(u, _):
        v = contract(u)
        return v / jnp.maximum(jnp.linalg.norm(v), jnp.finfo(v.dtype).tiny), None

    u = jax.lax.scan(sweep, u, None, length=sweeps)[0]
    c = u @ contract(u)
    x = jnp.sign(c) * jnp.abs(c) ** (1.0 / order) * u
    return x.reshape(n, r)
