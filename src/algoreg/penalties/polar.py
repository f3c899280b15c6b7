"""The polar factor P = UVᵀ of W = UΣVᵀ, exactly (SVD) or SVD-free.

Penalties of the form f(Σσ, ‖W‖_F) — the nuclear norm and the ratio ‖W‖_*/‖W‖_F — need only
P and Σσ = ⟨P, W⟩ for their closed-form gradients, e.g. ∇(‖W‖_*/‖W‖_F) = P/‖W‖_F −
⟨P, W⟩W/‖W‖_F³. The SVD-free methods return an approximate polar factor P̃ = U g(Σ) Vᵀ with
the exact singular vectors of W and g(σ) ≈ 1 for σ above a threshold τ, g(σ) ≈ σ/τ below it
(a smoothed polar factor: the gradient of a Huber-like Σh(σ) with h' = g). Methods:

- ``"svd"``: thin SVD (LAPACK gesdd on CPU), exact.
- ``"newton_schulz"``: K quintic Newton–Schulz steps X ← aX + (bA + cA²)X, A = XXᵀ on the
  smaller side, from X₀ = W/(1.01‖W‖_F), with the Polar Express schedule of Amsel, Persson,
  Musco & Gower (2025, arXiv 2505.16932; its safety factor 1.01; steps past the 8th repeat
  (15/8, −5/4, 3/8)). Matmuls only: 3 per step. A singular value σ ≪ ‖W‖_F grows by the
  product of the a's (≈ 6.8·10³ after 8 steps, ×1.875 per step after), so with K = 8 the
  threshold is τ ≈ 1.5·10⁻⁴‖W‖_F.
- ``"gram"``: eigendecomposition of the smaller Gram matrix XXᵀ = QΛQᵀ, P̃ = Q(Λ + δ)^{-1/2}QᵀX
  with δ = k·ε·λ_max (k the smaller side, ε the dtype's machine epsilon): the floor δ keeps
  the float32 round-off of the squared spectrum (≈ ε·λ_max) from turning into noise in the
  directions of tiny σ; τ = √δ ≈ √(kε)·σ_max (3.5·10⁻³σ_max at k = 100 in float32).
- ``"subspace"``: r-dimensional block power iteration with Rayleigh–Ritz, warm-started from
  the previous training step's basis (:func:`polar_subspace`): exact vectors on the r dominant
  directions, τ = the r-th Ritz value; 6mnr flops plus two thin QRs. Here (no previous step)
  it starts from the exact top-r basis.

Newton–Schulz and Gram are for well-conditioned W; at training iterates of low-rank recovery
most singular values are tiny, and their gradients differ from the exact one by design.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .svd import thin_svd

POLAR_METHODS = ("svd", "newton_schulz", "gram", "subspace")

# Polar Express degree-5 schedule (Amsel et al. 2025, Algorithm 1), safety factor 1.01 on all
# but the last polynomial; later steps repeat the last, which is classic quintic Newton–Schulz.
_PE = (
    (8.28721201814563, -23.595886519098837, 17.300387312530933),
    (4.107059111542203, -2.9478499167379106, 0.5448431082926601),
    (3.9486908534822946, -2.908902115962949, 0.5518191394370137),
    (3.3184196573706015, -2.488488024314874, 0.51004894012372),
    (2.300652019954817, -1.6689039845747493, 0.4188073119525673),
    (1.891301407787398, -1.2679958271945868, 0.37680408948524835),
    (1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
)
POLAR_EXPRESS = (
    *((a / 1.01, b / 1.01**3, c / 1.01**5) for a, b, c in _PE),
    (1.875, -1.25, 0.375),
)


def newton_schulz_coefficients(iterations: int) -> tuple[tuple[float, float, float], ...]:
    """(a, b, c) of each of ``iterations`` quintic steps p(x) = ax + bx³ + cx⁵."""
    n = len(POLAR_EXPRESS)
    return POLAR_EXPRESS[:iterations] + (POLAR_EXPRESS[-1],) * max(iterations - n, 0)


def _wide(W: jax.Array) -> tuple[jax.Array, bool]:
    """W or Wᵀ, whichever has no more rows than columns (the Gram side is the smaller one)."""
    tall = W.shape[-2] > W.shape[-1]
    return (jnp.swapaxes(W, -1, -2) if tall else W), tall


def _back(X: jax.Array, tall: bool) -> jax.Array:
    return jnp.swapaxes(X, -1, -2) if tall else X


def polar_svd(W: jax.Array) -> jax.Array:
    """UVᵀ from the thin SVD (exact; 0 directions of a rank-deficient W are arbitrary; a
    constant under autodiff, as every polar factor here is used)."""
    U, _, Vh = thin_svd(W)
    return U @ Vh


def polar_newton_schulz(W: jax.Array, iterations: int = 8) -> jax.Array:
    """Approximate polar factor by ``iterations`` Polar Express steps; 0 at W = 0."""
    X, tall = _wide(W)
    fro = jnp.sqrt(jnp.sum(X**2, axis=(-2, -1), keepdims=True))
    X = X / (1.01 * fro + jnp.finfo(X.dtype).tiny)
    for a, b, c in newton_schulz_coefficients(iterations):
        A = X @ jnp.swapaxes(X, -1, -2)
        X = a * X + (b * A + c * (A @ A)) @ X
    return _back(X, tall)


def polar_gram(W: jax.Array) -> jax.Array:
    """Q(Λ + δ)^{-1/2}QᵀW from the smaller Gram matrix WWᵀ = QΛQᵀ (see the module notes)."""
    X, tall = _wide(W)
    lam, Q = jnp.linalg.eigh(X @ jnp.swapaxes(X, -1, -2))
    lam = jnp.maximum(lam, 0.0)
    k = X.shape[-2]
    delta = k * jnp.finfo(X.dtype).eps * jnp.max(lam, axis=-1, keepdims=True)
    ok = lam + delta > 0
    inv = jnp.where(ok, 1.0 / jnp.sqrt(jnp.where(ok, lam + delta, 1.0)), 0.0)
    P = (Q * inv[..., None, :]) @ (jnp.swapaxes(Q, -1, -2) @ X)
    return _back(P, tall)


def subspace_start(W: jax.Array, rank: int) -> jax.Array:
    """V (…, n, r) holding the top r = min(rank, m, n) right singular vectors of W (exact SVD)."""
    r = min(rank, *W.shape[-2:])
    _, _, Vh = thin_svd(W)
    return jnp.swapaxes(Vh[..., :r, :], -1, -2)


def polar_subspace(W: jax.Array, V: jax.Array, iterations: int = 1) -> tuple[jax.Array, jax.Array]:
    """Dominant-subspace polar factor, warm-started: (P̃, V_new) from the basis V (…, n, r).

    ``iterations`` block power steps U = orth(WV), V = orth(WᵀU), the last with Rayleigh–Ritz:
    the thin SVD WᵀU = V_r S Ũᵀ gives Ritz vectors U_r = UŨ, V_r and values S (U_rᵀWV_r = S).
    P̃ = U_rV_rᵀ + (W − U_r S V_rᵀ)/τ with τ = S_r (the smallest Ritz value): exact singular
    vectors once converged, g = 1 on the r dominant directions and g(σ) = σ/τ on the rest
    (0 where τ = 0). V_new = V_r is the next step's start. Cost: 6mnr + O((m + n)r²) flops.

    r must exceed the rank the penalty should leave, with a margin: on 100×100 rank-5
    completion with the ratio penalty, r = 8 and 16 matched the exact SVD's recovery but
    r = 5 ran away (test error ≈ 6, effective rank 7–8, at λ = 1e-2 and 1e-3). Capping τ at
    ½‖W‖_F²/ΣS, so that the ratio's gradient always shrinks the tail, did not change that
    run at all (the cap never bound): the failure is not a growing tail, and is not understood.
    """
    Wt = jnp.swapaxes(W, -1, -2)
    for _ in range(iterations - 1):
        V, _ = jnp.linalg.qr(Wt @ jnp.linalg.qr(W @ V)[0])
    U, _ = jnp.linalg.qr(W @ V)
    # thin SVD of WᵀU = V_r S Ũᵀ: the second orthonormalization and Rayleigh–Ritz in one call
    Vr, S, Uh = thin_svd(Wt @ U)
    Ur = U @ jnp.swapaxes(Uh, -1, -2)
    tau = S[..., -1:]
    ok = tau > 0
    inv = jnp.where(ok, 1.0 / jnp.where(ok, tau, 1.0), 0.0)[..., None]
    head = (Ur * jnp.where(S > 0, 1.0 - S * inv[..., 0], 0.0)[..., None, :]) @ jnp.swapaxes(
        Vr, -1, -2
    )
    return W * inv + head, Vr


DEFAULT_ITERATIONS = {"newton_schulz": 8, "subspace": 1}


def polar(
    W: jax.Array, method: str = "svd", iterations: int | None = None, rank: int = 16
) -> jax.Array:
    """The (approximate) polar factor of W (…, m, n) by ``method`` (see the module notes).

    ``iterations``: Newton–Schulz steps, or block power steps of ``"subspace"`` (None: 8 and
    1); ``rank``: the subspace's dimension r. ``"subspace"`` starts cold here (an exact SVD
    for the start basis); training warm-starts it from the previous step's basis instead.
    """
    k = DEFAULT_ITERATIONS.get(method, 1) if iterations is None else iterations
    if method == "svd":
        return polar_svd(W)
    if method == "newton_schulz":
        return polar_newton_schulz(W, k)
    if method == "gram":
        return polar_gram(W)
    if method == "subspace":
        return polar_subspace(W, subspace_start(W, rank), k)[0]
    raise ValueError(f"unknown polar method {method!r}; expected one of {POLAR_METHODS}")
