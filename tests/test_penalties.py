"""Contract suite over every registered penalty, plus closed forms.

Gradient checks run in float64. Spectral penalties are non-smooth where the matrix is
rank-deficient (‖·‖_* is |σ| at σ = 0), so there the finite-difference check uses directions in
the tangent space of the fixed-rank manifold (U_⊥ᵀ E V_⊥ = 0), along which the function is
smooth, and the full gradient is checked to be finite and equal to the closed form.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg as ar
from algoreg.penalties import PENALTIES

ALL = sorted(PENALTIES)


def make(name, lam=0.7):
    return ar.penalties.get(name, lam=lam)


def random_matrix(rng, shape=(7, 5), rank=None, sigma=None):
    m, n = shape
    k = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    V, _ = np.linalg.qr(rng.standard_normal((n, k)))
    if sigma is None:
        sigma = np.sort(rng.uniform(0.5, 3.0, k))[::-1]
        if rank is not None:
            sigma[rank:] = 0.0
    return (U * np.asarray(sigma, float)) @ V.T


def tangent_direction(rng, W, rank):
    U, _, Vt = np.linalg.svd(W)
    E = rng.standard_normal(W.shape)
    Uperp, Vperp = U[:, rank:], Vt[rank:].T
    return E - Uperp @ (Uperp.T @ E @ Vperp) @ Vperp.T


def directional_fd(pen, W, E, h=1e-6):
    return (float(pen.value(W + h * E)) - float(pen.value(W - h * E))) / (2 * h)


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_autodiff_and_finite_differences(name):
    rng = np.random.default_rng(0)
    pen = make(name)
    W = random_matrix(rng)
    g = np.asarray(pen.grad(W))
    auto = np.asarray(jax.grad(lambda X: pen.value(X))(jnp.asarray(W)))
    np.testing.assert_allclose(g, auto, rtol=1e-9, atol=1e-12)
    for _ in range(3):
        E = rng.standard_normal(W.shape)
        assert directional_fd(pen, W, E) == pytest.approx(np.sum(g * E), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_gradient_at_repeated_singular_values(name):
    rng = np.random.default_rng(1)
    pen = make(name)
    W = random_matrix(rng, sigma=[2.0, 2.0, 2.0, 1.0, 0.5])
    g = np.asarray(pen.grad(W))
    auto = np.asarray(jax.grad(lambda X: pen.value(X))(jnp.asarray(W)))
    assert np.all(np.isfinite(auto))
    np.testing.assert_allclose(g, auto, rtol=1e-9, atol=1e-12)
    for _ in range(3):
        E = rng.standard_normal(W.shape)
        assert directional_fd(pen, W, E) == pytest.approx(np.sum(g * E), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_gradient_at_rank_deficient_input(name):
    rng = np.random.default_rng(2)
    pen = make(name)
    W = random_matrix(rng, rank=2)
    g = np.asarray(pen.grad(W))
    auto = np.asarray(jax.grad(lambda X: pen.value(X))(jnp.asarray(W)))
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(auto))
    np.testing.assert_allclose(g, auto, rtol=1e-8, atol=1e-10)
    for _ in range(3):
        E = tangent_direction(rng, W, 2)
        assert directional_fd(pen, W, E) == pytest.approx(np.sum(g * E), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("name", ALL)
def test_zero_matrix_is_finite(name):
    pen = make(name)
    Z = np.zeros((4, 3))
    assert np.isfinite(float(pen.value(Z)))
    assert np.all(np.isfinite(np.asarray(pen.grad(Z))))
    assert np.all(np.isfinite(np.asarray(jax.grad(lambda X: pen.value(X))(jnp.asarray(Z)))))


@pytest.mark.parametrize("name", ALL)
def test_homogeneity_degree(name):
    pen = make(name)
    W = random_matrix(np.random.default_rng(3))
    if pen.degree is None:
        pytest.skip(f"{name} is not homogeneous")
    for c in (0.1, 3.0):
        assert float(pen.value(c * W)) == pytest.approx(
            c**pen.degree * float(pen.value(W)), rel=1e-9
        )


@pytest.mark.parametrize("name", ALL)
def test_batched_value_and_grad_match_loop(name):
    pen = make(name)
    rng = np.random.default_rng(4)
    Ws = np.stack([random_matrix(rng) for _ in range(3)])
    np.testing.assert_allclose(pen.value(Ws), [float(pen.value(W)) for W in Ws], rtol=1e-12)
    np.testing.assert_allclose(pen.grad(Ws), np.stack([pen.grad(W) for W in Ws]), rtol=1e-10)


@pytest.mark.parametrize("name", [n for n in ALL if PENALTIES[n].convex])
def test_convex_penalties_satisfy_subgradient_inequality(name):
    pen = make(name)
    rng = np.random.default_rng(5)
    W = random_matrix(rng, rank=2)  # the subgradient must also hold where W is rank-deficient
    g = np.asarray(pen.grad(W))
    for _ in range(5):
        X = random_matrix(rng)
        assert float(pen.value(X)) >= float(pen.value(W)) + np.sum(g * (X - W)) - 1e-9


def test_ratio_closed_forms():
    pen = ar.penalties.ratio(lam=1.0)
    assert float(pen.value(np.diag([2.0, 2.0, 2.0, 0.0]))) == pytest.approx(np.sqrt(3))
    assert float(pen.value(np.outer([1.0, 2.0], [3.0, 1.0, 1.0]))) == pytest.approx(1.0)
    rng = np.random.default_rng(6)
    W = random_matrix(rng)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    fro, nuc = np.linalg.norm(W), s.sum()
    expected = U @ Vt / fro - nuc * W / fro**3
    np.testing.assert_allclose(pen.grad(W), expected, rtol=1e-10)
    assert np.sum(np.asarray(pen.grad(W)) * W) == pytest.approx(0, abs=1e-10)  # scale-invariant
    assert float(ar.penalties.ratio(lam=0.25).value(W)) == pytest.approx(0.25 * nuc / fro)


def test_nuclear_schatten_and_effective_rank_closed_forms():
    rng = np.random.default_rng(7)
    W = random_matrix(rng)
    s = np.linalg.svd(W, compute_uv=False)
    assert float(ar.penalties.nuclear(2.0).value(W)) == pytest.approx(2 * s.sum())
    assert float(ar.penalties.schatten(1.0, p=1.0, eps=0.0).value(W)) == pytest.approx(s.sum())
    assert float(ar.penalties.schatten(1.0, p=0.5, eps=0.0).value(W)) == pytest.approx(
        np.sum(s**0.5)
    )
    assert float(ar.penalties.frobenius(1.0).value(W)) == pytest.approx(np.sum(W**2))
    erank = float(ar.penalties.effective_rank(1.0).value(W))
    assert erank == pytest.approx(float(ar.metrics.effective_rank(W)), rel=1e-9)
    assert float(ar.penalties.effective_rank(1.0).value(np.diag([1.0, 1.0, 0.0]))) == pytest.approx(
        2.0
    )


def test_unknown_penalty_and_bad_parameters():
    with pytest.raises(ar.ConfigError, match=r"unknown penalty 'ration'.*Did you mean 'ratio'"):
        ar.penalties.get("ration", lam=1.0)
    with pytest.raises(ar.ConfigError, match="lam must be >= 0"):
        ar.penalties.ratio(lam=-1.0)
    with pytest.raises(ar.ConfigError, match="p must be <= 1"):
        ar.penalties.schatten(p=2.0)


@pytest.mark.parametrize("name", [n for n in ALL if hasattr(PENALTIES[n], "surrogate")])
def test_svd_light_surrogate_is_exact_at_refresh(name):
    pen = ar.penalties.get(name, lam=1.0, refresh_every=10)
    rng = np.random.default_rng(9)
    full, deficient = random_matrix(rng), random_matrix(rng, rank=2)
    # at rank-deficient W the σ ≈ 1e-16 that diag(UᵀWV) recomputes perturb f'(σ) slightly
    for W, rtol in ((full, 1e-8), (deficient, 1e-4)):
        W = jnp.asarray(W)
        cache = pen.cache(W)
        assert float(pen.surrogate(W, cache)) == pytest.approx(float(pen.raw(W)), rel=1e-10)
        g = jax.grad(lambda X, c=cache: pen.surrogate(X, c))(W)
        np.testing.assert_allclose(g, pen.raw_grad(W), rtol=rtol, atol=1e-8)
    # away from a (full-rank) refresh point the surrogate's error is second order
    W = jnp.asarray(full)
    cache, E = pen.cache(W), rng.standard_normal(W.shape)
    gaps = [
        abs(float(pen.surrogate(W + h * E, cache)) - float(pen.raw(W + h * E)))
        for h in (1e-2, 1e-3)
    ]
    assert gaps[1] < gaps[0] / 30


def test_thin_svd_survives_a_matrix_where_gesdd_fails():
    """tests/data/gesdd_failure.npy is a real float32 end-to-end matrix (depth-2 Adam + ratio
    penalty, 100×100 completion, step 26432, σ from 53 down to 6e-8) on which JAX's default CPU
    SVD (LAPACK gesdd) returned NaN singular vectors and ended the trial as "diverged".
    thin_svd redoes it with the QR algorithm: finite, exact to float32 round-off, the ratio
    gradient finite and orthogonal to W (degree-0 homogeneity: ⟨∇R(W), W⟩ = 0), and a healthy
    matrix batched beside it keeps its gesdd result bit for bit."""
    from pathlib import Path

    from algoreg.penalties.svd import thin_svd

    W = jnp.asarray(np.load(Path(__file__).parent / "data" / "gesdd_failure.npy"))
    U, s, Vh = thin_svd(W)
    assert all(bool(jnp.isfinite(x).all()) for x in (U, s, Vh))
    assert float(jnp.abs((U * s) @ Vh - W).max()) < 1e-6 * float(s[0])
    s64 = np.linalg.svd(np.asarray(W, np.float64), compute_uv=False)
    np.testing.assert_allclose(np.asarray(s), s64, atol=1e-6 * s64[0])
    g = jax.grad(ar.penalties.ratio(lam=1.0).value)(W)
    assert bool(jnp.isfinite(g).all())
    assert abs(float(jnp.vdot(g, W))) < 1e-5 * float(jnp.linalg.norm(g) * jnp.linalg.norm(W))

    healthy = jnp.asarray(np.random.default_rng(0).standard_normal((100, 100)), jnp.float32)
    Ub, sb, Vhb = jax.jit(jax.vmap(thin_svd))(jnp.stack([W, healthy]))
    assert bool(jnp.isfinite(Ub).all()) and bool(jnp.isfinite(Vhb).all())
    U0, s0, Vh0 = jax.lax.linalg.svd(healthy, full_matrices=False)
    assert bool((Ub[1] == U0).all() and (sb[1] == s0).all() and (Vhb[1] == Vh0).all())
