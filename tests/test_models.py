import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg as ar
from algoreg.errors import ConfigError


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_factor_shapes_and_product(depth):
    m = ar.models.factorization(depth, width=7)
    params = m.init_params(jax.random.key(0), (5, 6))
    shapes = [p.shape for p in params]
    assert shapes == m.factor_shapes((5, 6))
    assert shapes[-1][0] == 5 and shapes[0][1] == 6
    W = m.product(params)
    expected = np.asarray(params[0])
    for f in params[1:]:
        expected = np.asarray(f) @ expected
    np.testing.assert_allclose(W, expected, rtol=1e-5, atol=1e-12)


def test_gaussian_init_per_factor_std():
    m = ar.models.factorization(3, init_scale=1e-3)
    params = m.init_params(jax.random.key(1), (100, 100))
    for p in params:
        assert float(jnp.std(p)) == pytest.approx((1e-3) ** (1 / 3) / 10, rel=0.05)
    # end-to-end entry std ≈ init_scale/√width
    assert float(jnp.std(m.product(params))) == pytest.approx(1e-4, rel=0.2)


def test_identity_init_product_is_scaled_identity():
    m = ar.models.factorization(3, init="identity", init_scale=0.5)
    W = m.product(m.init_params(jax.random.key(0), (4, 6)))
    np.testing.assert_allclose(W, 0.5 * np.eye(4, 6), rtol=1e-6)


@pytest.mark.parametrize("depth", [2, 3])
def test_balanced_init_is_balanced_with_gaussian_scale(depth):
    m = ar.models.factorization(depth, init="balanced", init_scale=1.0)
    with jax.enable_x64(True):
        params = m.init_params(jax.random.key(2), (8, 12), jnp.float64)
        assert float(ar.metrics.balancedness(params)) < 1e-12
        A = 1.0 / np.sqrt(12) * jax.random.normal(jax.random.key(2), (8, 12), jnp.float64)
        np.testing.assert_allclose(m.product(params), A, atol=1e-12)


def test_nonlinear_product():
    m = ar.models.factorization(2, nonlinearity="relu")
    W1, W2 = jnp.array([[1.0, -2.0]]), jnp.array([[3.0]])
    np.testing.assert_allclose(m.product((W1, W2)), [[3.0, 0.0]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"depth": 0}, "depth must be >= 1"),
        ({"init": "orthogonl"}, "Did you mean 'orthogonal'|init must be one of"),
        ({"init_scale": -1.0}, "init_scale must be > 0"),
        ({"nonlinearity": "sigmoid"}, "nonlinearity must be one of"),
        ({"width": 0}, "width must be >= 1"),
    ],
)
def test_factorization_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ar.models.factorization(**{"depth": 2, **kwargs})
