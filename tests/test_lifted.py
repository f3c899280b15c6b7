"""Lifted matrix sensing (Ma, Lavaei & Sojoudi 2023): the mode-by-mode operator against the
Kronecker definition, its gradient against autodiff and finite differences, the key identity
f_l(x^{⊗l}) = ¼‖𝒜(xxᵀ)^{⊗l} − b^{⊗l}‖², rank-1 extraction, the two instances, and GD from a
small start staying rank-1 and recovering M*."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg as ar
from algoreg.errors import ConfigError
from algoreg.problems import check_psd_sensing, lifting, psd_sensing

CASES = [(3, 1, 3, 4), (3, 2, 3, 3), (2, 1, 5, 3), (4, 2, 1, 5)]  # n, r, order, m


def _instance(n, r, order, m, seed=0):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((m, n, n))
    A = (G + G.transpose(0, 2, 1)) / 2
    d = n * r
    W = rng.standard_normal((n, r) if order == 1 else (d, d ** (order - 1)))
    return A, W, rng.standard_normal(m)


def _kronecker_measure(A, W, r, order):
    """y_i = wᵀ (⊗_j A_{i_j} ⊗ I_r) w, the definition with S written out (small sizes only)."""
    Ms = [np.kron(a, np.eye(r)) for a in A]
    w = W.reshape(-1)
    y = np.zeros((len(A),) * order)
    for idx in itertools.product(range(len(A)), repeat=order):
        M = Ms[idx[0]]
        for i in idx[1:]:
            M = np.kron(M, Ms[i])
        y[idx] = w @ M @ w
    return y


@pytest.mark.parametrize(("n", "r", "order", "m"), CASES)
def test_the_operator_matches_its_kronecker_definition_and_its_gradient_autodiff(n, r, order, m):
    with jax.enable_x64(True):
        A, W, b = _instance(n, r, order, m)
        A, W, b = jnp.asarray(A), jnp.asarray(W), jnp.asarray(b)
        y = lifting.measure(W, A, r)
        if order == 1:
            np.testing.assert_allclose(y, np.einsum("iab,ak,bk->i", A, W, W), rtol=1e-12)
        else:
            expected = _kronecker_measure(np.asarray(A), np.asarray(W), r, order)
            np.testing.assert_allclose(y, expected, rtol=1e-11, atol=1e-11)
        grad = lifting.apply_adjoint(y - lifting.power(b, y.ndim), A, W, r)
        auto = jax.grad(lifting.loss)(W, A, b, r)
        np.testing.assert_allclose(grad, auto, rtol=1e-10, atol=1e-10 * float(jnp.abs(auto).max()))
        # central finite differences along a random direction
        V = jnp.asarray(np.random.default_rng(1).standard_normal(W.shape))
        h = 1e-6
        fd = (lifting.loss(W + h * V, A, b, r) - lifting.loss(W - h * V, A, b, r)) / (2 * h)
        scale = float(jnp.linalg.norm(grad) * jnp.linalg.norm(V))  # FD cancels below this
        np.testing.assert_allclose(fd, jnp.sum(grad * V), rtol=1e-6, atol=1e-8 * scale)


@pytest.mark.parametrize("order", [1, 3, 5])
def test_key_identity_and_rank_one_extraction(order):
    """f_l(x^{⊗l}) = ¼‖𝒜(xxᵀ)^{⊗l} − b^{⊗l}‖², and x^{⊗l} gives back xxᵀ (x up to sign)."""
    with jax.enable_x64(True):
        n, m = 3, 4
        A, _, b = _instance(n, 1, order, m, seed=2)
        x = np.random.default_rng(3).standard_normal(n)
        w = x
        for _ in range(order - 1):
            w = np.multiply.outer(w, x)
        W = jnp.asarray(x[:, None] if order == 1 else w.reshape(n, -1))
        unlifted = np.einsum("iab,a,b->i", A, x, x)
        expected = 0.25 * np.sum((lifting.power(unlifted, order) - lifting.power(b, order)) ** 2)
        np.testing.assert_allclose(lifting.loss(W, jnp.asarray(A), jnp.asarray(b), 1), expected,
                                   rtol=1e-11)  # fmt: skip
        X = np.asarray(lifting.extract(W, n, 1))
        np.testing.assert_allclose(X @ X.T, np.outer(x, x), rtol=1e-10, atol=1e-12)


def test_pmc_instance_matches_the_papers_construction():
    p = psd_sensing(n=4, instance="pmc", normalize=False)
    assert p.A.shape == (16, 4, 4) and p.n_obs == 16
    np.testing.assert_array_equal(p.truth[:, 0], [1, 0, 1, 0])
    # A_(i,j) = mask_ij (e_i e_jᵀ + e_j e_iᵀ)/2: mask 1 on the diagonal and rows/columns 1, 3
    e = np.eye(4)
    np.testing.assert_allclose(
        p.A[0 * 4 + 2], 0.01 * (np.outer(e[0], e[2]) + np.outer(e[2], e[0])) / 2
    )  # rows and columns 0, 2 (where z = 1) off the diagonal: ε
    np.testing.assert_allclose(p.A[0 * 4 + 1][0, 1], 0.5)
    np.testing.assert_allclose(p.A[1 * 4 + 3][3, 1], 0.5)
    np.testing.assert_allclose(p.A[2 * 4 + 2][2, 2], 1.0)
    q = psd_sensing(n=4, instance="pmc")  # normalized: λ₁(𝒜*(b)) = 1, same truth
    assert np.isclose(np.linalg.eigvalsh(np.einsum("i,iab->ab", q.b, q.A))[-1], 1.0)


def test_small_init_lifted_gd_stays_rank_one_and_recovers_the_truth():
    """Gaussian sensing, n = 5, m = 15, order 3: a generic Gaussian tensor start of norm 1e-2
    ends with σ₁/‖w‖ > 0.999 and M̂ within the success threshold; from norm 1 it is less
    rank-1."""
    p = psd_sensing(n=5, m=15, seed=0)
    ratios = {}
    for scale in (1e-2, 1.0):
        model = ar.models.get("lifted", order=3, init="gaussian", init_scale=scale)
        r = ar.fit(p, model, optimizer=ar.optim.gd(0.05), max_steps=3000, log_every=500,
                   dtype="float64", tol=1e-12)  # fmt: skip
        ratios[scale] = r.metrics["rank1_ratio"]
        if scale < 1:
            assert r.metrics["success"] == 1.0 and r.metrics["dist"] < 1e-3
    assert ratios[1e-2] > 0.999 and 1 - ratios[1.0] > 3 * (1 - ratios[1e-2])


def test_burer_monteiro_is_order_one_of_the_same_model():
    p = psd_sensing(n=6, m=20, seed=1)
    bm = ar.models.get("lifted", order=1, init="spectral", init_scale=1e-2)
    assert bm.label("gd") == "burer-monteiro gd, spectral start"
    assert (
        ar.models.get("lifted", escape=True).label("gd") == "lifted l=3 gd, gaussian start + escape"
    )
    r = ar.fit(p, bm, optimizer=ar.optim.gd(0.05), max_steps=5000, log_every=500, tol=1e-12,
               dtype="float64")  # fmt: skip
    assert r.matrix.shape == (6, 1) and r.metrics["success"] == 1.0


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"order": 2}, "order must be odd"),
        ({"order": 0}, "order must be >= 1"),
        ({"init": "random"}, "init must be one of"),
        ({"init_scale": 0.0}, "init_scale must be > 0"),
    ],
)
def test_model_settings_are_checked(params, match):
    with pytest.raises(ConfigError, match=match):
        ar.models.get("lifted", **params)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n": 5, "rank": 5}, "rank must be <= 4"),
        ({"n": 5}, "needs m"),
        ({"n": 5, "m": 0}, "m must be >= 1"),
        ({"n": 5, "instance": "pmc", "m": 10}, "m is set by the pmc instance"),
        ({"n": 5, "instance": "pmc", "rank": 2}, "rank-1 truth"),
    ],
)
def test_problem_parameters_are_checked(params, match):
    with pytest.raises(ConfigError, match=match):
        check_psd_sensing(**params)


def test_a_non_symmetric_measurement_is_refused():
    A = np.zeros((2, 3, 3))
    A[1, 0, 2] = 1.0
    with pytest.raises(ConfigError, match=r"A\[1\] is not symmetric"):
        ar.problems.PsdSensingProblem(A, np.ones((3, 1)))


def test_a_lifting_too_large_is_refused_before_training():
    p = psd_sensing(n=12, instance="pmc")  # m = 144: order 5 needs ~1e13 floats
    model = ar.models.get("lifted", order=5)
    with pytest.raises(ConfigError, match="lifting order 5 with n = 12"):
        ar.fit(p, model, max_steps=1)


@pytest.mark.parametrize("order", [1, 3])
def test_the_escape_step_leaves_a_strict_saddle_and_lowers_the_loss(order):
    """w = 0 is a critical point with λ_min(𝒜*(−b)) = −1: the step along ±u^{⊗l} is taken and
    the loss drops; a point with no negative curvature along it is left unchanged."""
    with jax.enable_x64(True):
        p = psd_sensing(n=5, m=15, seed=0)
        data = {k: jnp.asarray(v) for k, v in p.data().items()}
        model = ar.models.get("lifted", order=order, escape=True)
        W = jnp.zeros(model.output_shape((5, 1)))
        new, accepted = model.escape_step(W, data)
        f = lambda w: float(lifting.loss(w, data["A"], data["b"], 1))  # noqa: E731
        assert bool(accepted) and f(new) < f(W) - 1e-3
        truth = p.truth if order == 1 else np.einsum("a,b,c->abc", *[p.truth[:, 0]] * 3)
        at_truth = jnp.asarray(truth.reshape(W.shape))  # the global minimum: nothing to escape
        same, accepted = model.escape_step(at_truth, data)
        assert not bool(accepted) and np.array_equal(same, at_truth)


def test_escapes_are_tried_and_counted_during_training():
    """From a random rank-1 start on PMC (n = 5) GD stalls at a spurious point; the engine
    tries the escape there and counts it. Measured (as the issue's throwaway check found): the
    direction u^{⊗3} has positive lifted curvature there, so no escape is accepted."""
    p = psd_sensing(n=5, instance="pmc")
    model = ar.models.get("lifted", order=3, init="rank1", init_scale=1e-3, escape=True)
    r = ar.fit(p, model, optimizer=ar.optim.gd(0.02), max_steps=2000, log_every=250,
               dtype="float64", tol=1e-7)  # fmt: skip
    assert r.metrics["success"] == 0.0 and r.metrics["grad_norm"] < 1e-5
    assert r.metrics["escapes_tried"] >= 2 and r.metrics["escapes_accepted"] == 0.0
    plain = ar.fit(p, ar.models.get("lifted", order=3, init="rank1", init_scale=1e-3),
                   optimizer=ar.optim.gd(0.02), max_steps=2000, log_every=250, dtype="float64",
                   tol=1e-7)  # fmt: skip
    assert "escapes_tried" not in plain.metrics
    np.testing.assert_array_equal(plain.matrix, r.matrix)  # nothing accepted: the same run


def test_the_lifted_model_refuses_a_problem_it_cannot_read():
    problem = ar.problems.completion(shape=(6, 5), rank=1, n_obs=20)
    with pytest.raises(ConfigError, match="model 'lifted' reads a psd_sensing problem"):
        ar.fit(problem, ar.models.get("lifted"), max_steps=1)


def test_psd_sensing_trials_with_different_m_do_not_share_a_batch():
    from algoreg.studies.grid import batch_key

    def config(m):
        return {"problem": {"kind": "psd_sensing", "shape": [8, 1], "n": 8, "m": m},
                "model": {"kind": "lifted"}, "penalty": {"kind": "none"},
                "optimizer": {"kind": "gd", "learning_rate": 0.02},
                "train": {"log_every": 10, "dtype": "float64", "diverge_above": 1e10,
                          "log_flow": False}, "seed": 0}  # fmt: skip

    assert batch_key(config(10)) != batch_key(config(20))
    assert batch_key(config(10)) == batch_key({**config(10), "seed": 1})
