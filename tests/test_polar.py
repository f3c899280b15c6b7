"""SVD-free polar factors and the ratio penalty's ``method`` option.

Each method's gradient is checked against the exact (SVD) closed form where it is meant to
agree: Newton–Schulz and Gram at well-conditioned matrices, Newton–Schulz with enough steps
at low-rank-plus-noise matrices, the subspace method whenever its rank covers every nonzero
singular value. At realistic training iterates (tiny, quickly rotating singular values) the
SVD-free methods differ from the exact gradient by design — see the PolarCached docstring.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg as ar
from algoreg.penalties.polar import newton_schulz_coefficients, polar, polar_subspace

METHODS = ("svd", "newton_schulz", "gram", "subspace")


def rel(a, b):
    return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))


def well_conditioned(rng, shape=(20, 30)):
    m, n = shape
    k = min(m, n)
    U, _ = np.linalg.qr(rng.standard_normal((m, k)))
    V, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return jnp.asarray((U * np.linspace(1.0, 10.0, k)) @ V.T, jnp.float32)


def low_rank_plus_noise(rng, shape=(40, 30), rank=3, noise=1e-2):
    A = rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))
    return jnp.asarray(A + noise * rng.standard_normal(shape), jnp.float32)


@pytest.mark.parametrize("shape", [(20, 30), (30, 20)])
@pytest.mark.parametrize(
    "method,kw,tol",
    [("newton_schulz", {}, 1e-4), ("gram", {}, 1e-3), ("subspace", {"rank": 20}, 1e-4)],
)
def test_gradient_and_value_match_exact_at_well_conditioned_matrices(shape, method, kw, tol):
    W = well_conditioned(np.random.default_rng(0), shape)
    exact, pen = ar.penalties.ratio(1.0), ar.penalties.ratio(1.0, method=method, **kw)
    assert rel(pen.grad(W), exact.grad(W)) < tol
    assert float(pen.raw(W)) == pytest.approx(float(exact.raw(W)), rel=tol)
    # the engine differentiates raw(): its autodiff gradient is the closed form
    np.testing.assert_allclose(jax.grad(pen.raw)(W), pen.raw_grad(W), rtol=1e-4, atol=1e-7)


def test_newton_schulz_at_low_rank_plus_noise_converges_with_steps():
    W = low_rank_plus_noise(np.random.default_rng(1))
    exact = ar.penalties.ratio(1.0).grad(W)
    errs = [
        rel(ar.penalties.ratio(1.0, method="newton_schulz", iterations=k).grad(W), exact)
        for k in (4, 8, 16)
    ]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-3
    # the approximation is a smoothed polar factor: it never overcounts the nuclear norm
    v = ar.penalties.ratio(1.0, method="newton_schulz", iterations=6).raw(W)
    assert float(v) <= float(ar.penalties.ratio(1.0).raw(W)) * (1 + 1e-5)


def test_newton_schulz_schedule():
    c = newton_schulz_coefficients(10)
    assert len(c) == 10 and c[-1] == c[-2] == (1.875, -1.25, 0.375)
    x = np.geomspace(1e-3, 1.0, 50)
    for a, b, cc in newton_schulz_coefficients(8):
        x = a * x + b * x**3 + cc * x**5
    assert np.all(np.abs(x - 1) < 0.05)  # [1e-3, 1] lands near 1 in 8 steps


def test_subspace_warm_start_converges_to_dominant_singular_vectors():
    rng = np.random.default_rng(2)
    W = low_rank_plus_noise(rng, rank=5, noise=1e-3)
    V = jnp.asarray(np.linalg.qr(rng.standard_normal((30, 5)))[0], jnp.float32)
    for _ in range(30):
        P, V = polar_subspace(W, V)
    U, s, Vh = np.linalg.svd(np.asarray(W))
    top = U[:, :3] @ Vh[:3]
    cold = polar(W, "subspace", rank=5)
    assert rel(P, cold) < 1e-3
    # the dominant part is the exact one; the tail is W's own, scaled by 1/σ_5
    head = P - (np.asarray(W) - (U[:, :5] * s[:5]) @ Vh[:5]) / s[4]
    np.testing.assert_allclose(head, U[:, :5] @ Vh[:5], atol=1e-3)
    assert rel(jnp.asarray(head[:, :] @ Vh[:3].T @ Vh[:3]), jnp.asarray(top)) < 1e-3


@pytest.mark.parametrize("method", METHODS)
def test_finite_at_zero_and_batched(method):
    pen = ar.penalties.ratio(1.0, method=method, rank=4)
    Z = jnp.zeros((6, 5))
    assert float(pen.raw(Z)) == 0.0
    assert np.all(np.isfinite(jax.grad(pen.raw)(Z))) and np.all(np.isfinite(pen.raw_grad(Z)))
    rng = np.random.default_rng(3)
    Ws = jnp.stack([well_conditioned(rng, (6, 5)) for _ in range(3)])
    g, v = pen.grad(Ws), pen.raw(Ws)
    assert g.shape == Ws.shape and v.shape == (3,)
    for i in range(3):
        np.testing.assert_allclose(g[i], pen.grad(Ws[i]), rtol=1e-4, atol=1e-6)
        assert float(v[i]) == pytest.approx(float(pen.raw(Ws[i])), rel=1e-5)


def test_parameters_are_checked_and_selectable_by_name():
    with pytest.raises(ar.ConfigError, match="method must be one of"):
        ar.penalties.ratio(1.0, method="newton")
    with pytest.raises(ar.ConfigError, match="iterations must be >= 1"):
        ar.penalties.ratio(1.0, method="newton_schulz", iterations=0)
    with pytest.raises(ar.ConfigError, match="refresh_every=1"):
        ar.penalties.ratio(1.0, refresh_every=5, method="subspace")
    pen = ar.penalties.get("ratio", lam=0.1, method="newton_schulz", iterations=12)
    assert (pen.method, pen.iterations) == ("newton_schulz", 12)
    assert pen.static_key() != ar.penalties.ratio(0.1).static_key()
    nuc = ar.penalties.get("nuclear", lam=1.0, method="subspace", rank=3)
    W = well_conditioned(np.random.default_rng(4), (5, 3))
    np.testing.assert_allclose(nuc.grad(W), ar.penalties.nuclear(1.0).grad(W), atol=1e-4)
