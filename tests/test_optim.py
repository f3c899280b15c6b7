import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import algoreg as ar
from algoreg.optim import OPTIMIZERS


def quadratic(params):
    """A convex quadratic ½xᵀHx − bᵀx with condition number 10, minimum at H⁻¹b."""
    H = jnp.diag(jnp.linspace(1.0, 10.0, 5))
    x = params["x"]
    return 0.5 * x @ H @ x - jnp.arange(1.0, 6.0) @ x


def run(opt, steps=300):
    def step(carry, _):
        params, state = carry
        updates, state = opt.update(jax.grad(quadratic)(params), state, params)
        return (optax.apply_updates(params, updates), state), None

    params = {"x": jnp.zeros(5)}
    return jax.lax.scan(step, (params, opt.init(params)), None, length=steps)[0][0]


LR = {
    "gd": 0.1,
    "gd_decay": 0.15,
    "momentum": 0.02,
    "adam": 0.05,
    "rmsprop": 0.01,
    "group_rmsprop": 0.05,
    "adam_numerator": 0.1,
    "adam_denominator": 0.02,
}


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_every_optimizer_decreases_a_convex_quadratic(kind):
    spec = ar.optim.get(kind, learning_rate=LR[kind])
    start = float(quadratic({"x": jnp.zeros(5)}))
    optimum = float(quadratic({"x": jnp.arange(1.0, 6.0) / jnp.linspace(1.0, 10.0, 5)}))
    final = float(quadratic(run(spec.build())))
    assert final < start
    assert final - optimum < 0.05 * (start - optimum)


def test_group_rmsprop_matches_reference_formula():
    spec = ar.optim.group_rmsprop(learning_rate=0.1, decay=0.9, eps=1e-4)
    opt = spec.build()
    params = (jnp.ones((2, 2)), jnp.ones(3))
    state = opt.init(params)
    v = 0.0
    rng = np.random.default_rng(0)
    for t in range(1, 4):
        g = (jnp.asarray(rng.standard_normal((2, 2))), jnp.asarray(rng.standard_normal(3)))
        updates, state = opt.update(g, state, params)
        v = 0.9 * v + 0.1 * float(sum(jnp.sum(x**2) for x in g))
        denom = np.sqrt(v / (1 - 0.9**t)) + 1e-4
        for u, x in zip(updates, g, strict=True):
            np.testing.assert_allclose(u, -0.1 * np.asarray(x) / denom, rtol=1e-5)


def test_adam_halves():
    rng = np.random.default_rng(1)
    grads = [{"x": jnp.asarray(rng.standard_normal(4))} for _ in range(5)]
    params = {"x": jnp.zeros(4)}

    def updates_of(opt):
        state, out = opt.init(params), []
        for g in grads:
            u, state = opt.update(g, state, params)
            out.append(np.asarray(u["x"]))
        return np.array(out)

    # denominator only == Adam with b1 = 0
    np.testing.assert_allclose(
        updates_of(ar.optim.adam_denominator(0.1, b2=0.99).build()),
        updates_of(ar.optim.adam(0.1, b1=0.0, b2=0.99).build()),
        rtol=1e-5,
    )
    # numerator only == −lr · bias-corrected EMA of the gradients
    m, expected = np.zeros(4), []
    for t, g in enumerate(grads, 1):
        m = 0.9 * m + 0.1 * np.asarray(g["x"])
        expected.append(-0.1 * m / (1 - 0.9**t))
    np.testing.assert_allclose(
        updates_of(ar.optim.adam_numerator(0.1, b1=0.9).build()), expected, rtol=1e-5
    )


def test_traced_hyperparameters_build_inside_vmap():
    spec = ar.optim.adam(1e-3)
    params = {"x": jnp.ones((3, 2))}

    def one(lr, p):
        opt = spec.build(learning_rate=lr)
        u, _ = opt.update({"x": jnp.ones(2)}, opt.init(p), p)
        return u["x"]

    out = jax.vmap(one)(jnp.array([1e-3, 1e-2, 1e-1]), params)
    np.testing.assert_allclose(out[:, 0], [-1e-3, -1e-2, -1e-1], rtol=1e-4)


def test_bad_optimizer_input():
    with pytest.raises(ar.ConfigError, match=r"unknown optimizer 'adan'.*Did you mean 'adam'"):
        ar.optim.get("adan")
    with pytest.raises(ar.ConfigError, match="learning_rate must be > 0"):
        ar.optim.adam(learning_rate=-1.0)
    with pytest.raises(ar.ConfigError, match="b1 must be < 1"):
        ar.optim.adam(b1=1.0)
    with pytest.raises(ar.ConfigError, match=r"unknown parameter\(s\) \['beta'\]"):
        ar.optim.get("gd", beta=0.5)


def test_fit_takes_any_optax_transformation():
    """An optax transformation given as is trains exactly as the named optimizer it equals,
    alone or per trial in a batch; it cannot come from a study file (no TOML spelling)."""
    p = ar.problems.completion(shape=(10, 8), rank=1, n_obs=40, seed=0)
    m = ar.models.factorization(depth=2, init_scale=1e-2)
    kw = {"max_steps": 300, "log_every": 100}
    named = ar.fit(p, m, optimizer=ar.optim.gd(0.05), **kw)
    given = ar.fit(p, m, optimizer=optax.sgd(0.05), **kw)
    np.testing.assert_array_equal(named.matrix, given.matrix)
    assert given.metrics["train_loss"] < named.history["train_loss"][0]
    tx = optax.adam(1e-2)
    both = ar.fit_many([p, p], m, optimizer=[tx, tx], seeds=[0, 1], **kw)
    assert all(r.status in ("converged", "max_steps") for r in both)
    with pytest.raises(ar.ConfigError, match="one batch needs one optimizer kind"):
        ar.fit_many([p, p], m, optimizer=[tx, optax.adam(1e-2)], **kw)
    with pytest.raises(ar.ConfigError, match="not an algoreg Optimizer or an optax"):
        ar.fit(p, m, optimizer="adam", **kw)
