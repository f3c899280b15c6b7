"""Sparse observations: the same losses, gradients, metrics and trajectories as the dense
masks; the two loss kernels agree; sampling without a dense mask; large problems never form W."""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg as ar
from algoreg.errors import ConfigError
from algoreg.problems import SparseCompletionProblem
from algoreg.problems.sampled import sampled_sq_loss, sorted_entries
from algoreg.problems.sparse import sample_entries

HAS_NUMBA = importlib.util.find_spec("numba") is not None


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def _pair(seed=0, validation=0.2):
    dense = ar.problems.completion(
        shape=(30, 25), rank=2, n_obs=300, noise=0.1, validation=validation, seed=seed
    )
    return dense, SparseCompletionProblem.from_dense(dense)


def _data(problem):
    return {k: jnp.asarray(v) for k, v in problem.data().items()}


@pytest.mark.skipif(not HAS_NUMBA, reason="numba not installed (the XLA kernel is the only one)")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_numba_and_xla_kernels_agree(dtype):
    rng = np.random.default_rng(0)
    m, n, k, N = 40, 30, 6, 500
    keys = rng.choice(m * n, N, replace=False)
    obs = sorted_entries(keys // n, keys % n, rng.standard_normal(N))
    with jax.enable_x64(dtype == "float64"):
        obs = {k: jnp.asarray(v, v.dtype if v.dtype.kind == "i" else dtype) for k, v in obs.items()}
        L = jnp.asarray(rng.standard_normal((m, k)), dtype)
        R = jnp.asarray(rng.standard_normal((n, k)), dtype)
        out = {}
        for impl in ("numba", "xla"):
            f = jax.jit(
                jax.value_and_grad(lambda L, R, i=impl: sampled_sq_loss(L, R, obs, i), (0, 1))
            )
            out[impl] = f(L, R)
        tol = 1e-5 if dtype == "float32" else 1e-12
        for a, b in zip(jax.tree.leaves(out["numba"]), jax.tree.leaves(out["xla"]), strict=True):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        # the dense definition, and every entry once
        W = np.asarray(L) @ np.asarray(R).T
        r, c = np.asarray(obs["rows"]), np.asarray(obs["cols"])
        assert sorted(r * n + c) == sorted(keys)
        ref = np.mean((W[r, c] - np.asarray(obs["values"])) ** 2)
        np.testing.assert_allclose(out["xla"][0], ref, rtol=tol)


def test_losses_gradients_and_metrics_equal_the_dense_masks(x64):
    dense, sparse = _pair()
    model = ar.models.get("factored", rank=4, init_scale=0.5, bias=True)
    params = model.init_params(jax.random.key(1), dense.shape, jnp.float64)
    dd, sd = _data(dense), _data(sparse)

    def dense_loss(p):
        return dense.loss(model.product(p), dd)

    def sparse_loss(p):
        return sparse.loss(model.factors(p), sd)

    np.testing.assert_allclose(dense_loss(params), sparse_loss(params), rtol=1e-12)
    for a, b in zip(jax.grad(dense_loss)(params), jax.grad(sparse_loss)(params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    dm = dense.metrics(model.product(params), dd)
    for X in (model.factors(params), model.product(params)):  # factors, or a dense W
        sm = sparse.metrics(X, sd)
        for key in ("test_error", "rel_error", "mse", "val_error"):
            np.testing.assert_allclose(sm[key], dm[key], rtol=1e-9, err_msg=key)
        np.testing.assert_allclose(sparse.loss(model.product(params), sd), dense_loss(params))


@pytest.mark.parametrize("kind", ["factored", "asymmetric"])
def test_training_trajectories_equal_the_dense_masks(kind):
    """The same trial on both storages: equal logged losses, errors and final matrix (float64;
    the factored model trains without forming W, the asymmetric one gathers from W)."""
    dense, sparse = _pair(seed=3)
    model = ar.models.get(kind, rank=5, init_scale=0.1)
    kw = {
        "penalty": ar.penalties.ratio(0.05) if kind == "factored" else None,
        "optimizer": ar.optim.adam(learning_rate=0.01),
        "max_steps": 300,
        "log_every": 50,
        "dtype": "float64",
    }
    a, b = ar.fit(dense, model, **kw), ar.fit(sparse, model, **kw)
    for key in ("train_loss", "objective", "test_error", "rel_error", "val_error"):
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-8, err_msg=key)
    np.testing.assert_allclose(a.matrix, b.matrix, rtol=1e-8, atol=1e-10)
    assert a.metrics["test_error"] < 0.9 * a.history["test_error"][0]  # it did learn


def test_sparse_completion_draws_distinct_disjoint_entries():
    p = ar.problems.sparse_completion(
        shape=(60, 50), rank=3, n_obs=900, validation=0.1, n_test=500, seed=2
    )
    n = 50
    keys = [p.obs[0] * n + p.obs[1], p.val[0] * n + p.val[1], p.test[0] * n + p.test[1]]
    assert [k.size for k in keys] == [810, 90, 500]
    allkeys = np.concatenate(keys)
    assert np.unique(allkeys).size == allkeys.size  # distinct and disjoint
    W = p.U @ p.V.T
    np.testing.assert_allclose(np.linalg.norm(W), np.sqrt(60 * 50))  # rms entry 1
    assert np.linalg.matrix_rank(W) == 3
    np.testing.assert_allclose(p.obs[2], W[p.obs[0], p.obs[1]])  # noise-free values
    again = ar.problems.sparse_completion(
        shape=(60, 50), rank=3, n_obs=900, validation=0.1, n_test=500, seed=2
    )
    assert np.array_equal(again.obs[0], p.obs[0]) and np.array_equal(again.test[1], p.test[1])


def test_sample_entries_excludes_and_never_repeats():
    rng = np.random.default_rng(0)
    exclude = np.sort(rng.choice(10**6, 5000, replace=False))
    got = sample_entries((1000, 1000), 20000, rng, exclude)
    assert np.unique(got).size == 20000 and not np.isin(got, exclude).any()
    small = sample_entries((10, 10), 95, rng, np.arange(5))  # dense regime: a permutation
    assert sorted(small) == list(range(5, 100))
    with pytest.raises(ConfigError, match="cannot draw"):
        sample_entries((10, 10), 96, rng, np.arange(5))


def test_completion_switches_to_sparse_storage_above_the_rule():
    small = ar.problems.completion(shape=(2048, 2048), rank=2, n_obs=1000, seed=0)
    large = ar.problems.completion(shape=(2049, 2048), rank=2, n_obs=1000, seed=0)
    assert type(small).__name__ == "CompletionProblem"
    assert isinstance(large, SparseCompletionProblem) and large.n_obs == 1000


def test_a_large_problem_trains_without_forming_w():
    """5000 × 4000 (m·n above fit.DENSE_RESULT_MAX): the result holds factors, no matrix, and
    the Gram-matrix relative error agrees with the held-out entries' error."""
    p = ar.problems.completion(shape=(5000, 4000), rank=2, n_obs=300_000, seed=0)
    model = ar.models.get("factored", rank=4, init_scale=0.1)
    r = ar.fit(
        p,
        model,
        penalty=ar.penalties.ratio(1e-3),
        optimizer=ar.optim.adam(learning_rate=0.02),
        max_steps=400,
        log_every=200,
    )
    assert r.matrix is None and [f.shape for f in r.factors] == [(5000, 4), (4000, 4)]
    assert r.history["rel_error"][0] > 0.99 and r.metrics["rel_error"] < 0.05
    assert abs(r.metrics["test_error"] / r.metrics["rel_error"] - 1) < 0.2


def test_bad_sparse_entries_are_named():
    with pytest.raises(ConfigError, match="row index 7 out of range"):
        SparseCompletionProblem((5, 5), [7], [0], [1.0])
    with pytest.raises(ConfigError, match="given twice"):
        SparseCompletionProblem((5, 5), [1, 1], [2, 2], [1.0, 2.0])
    with pytest.raises(ConfigError, match="disjoint"):
        SparseCompletionProblem((5, 5), [1], [2], [1.0], val=([1], [2], [0.5]))
    with pytest.raises(ConfigError, match="n_test"):
        ar.problems.sparse_completion(shape=(5, 5), rank=1, n_obs=20, n_test=6)


def _ratings_pair(center=True):
    from algoreg.problems import Ratings, RatingsProblem
    from algoreg.problems.ratings import hold_out

    rng = np.random.default_rng(5)
    m, n = 40, 30
    keys = rng.choice(m * n, 500, replace=False)
    values = rng.integers(1, 6, 500).astype(float)
    ratings = Ratings(keys // n, keys % n, values, (m, n))
    train, test = ratings.subset(np.arange(400)), ratings.subset(np.arange(400, 500))
    dense = hold_out(RatingsProblem(train, test, center=center), 0.1, seed=1)
    return dense, ar.problems.SparseRatingsProblem.from_ratings(dense)


@pytest.mark.parametrize("center", [True, "bias"])
def test_sparse_ratings_equal_the_dense_ratings_problem(center):
    dense, sparse = _ratings_pair(center)
    assert (dense.item_bias != 0).any() == (center == "bias")
    model = ar.models.get("factored", rank=3, init_scale=0.3, bias=True)
    kw = {
        "penalty": ar.penalties.ratio(0.01),
        "optimizer": ar.optim.adam(learning_rate=0.02),
        "max_steps": 200,
        "log_every": 50,
        "dtype": "float64",
    }
    a, b = ar.fit(dense, model, **kw), ar.fit(sparse, model, **kw)
    keys = ("train_loss", "rmse", "mae", "rmse_clipped", "mae_clipped", "train_rmse", "val_error")
    rtol = 1e-8 if center is True else 1e-6  # the dense form holds its m × n offsets in float32
    for key in keys:
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=rtol, err_msg=key)
    assert a.history["train_rmse"][-1] < 0.5 * a.history["train_rmse"][0]  # it trained
    with jax.enable_x64(True):  # a dense W scores the same on the sparse problem
        W = jnp.asarray(a.matrix)
        sd, dd = _data(sparse), {k: jnp.asarray(v) for k, v in dense.data().items()}
        for key, value in dense.metrics(W, dd).items():
            np.testing.assert_allclose(sparse.metrics(W, sd)[key], value, rtol=1e-6, err_msg=key)


def test_a_batch_of_sparse_trials_equals_its_trials_one_by_one():
    """vmap over trials runs the CPU kernel once per trial: the same results as alone."""
    problems = [_pair(seed=s)[1] for s in (0, 1)]
    model = ar.models.get("factored", rank=4, init_scale=0.1)
    kw = {"optimizer": ar.optim.adam(learning_rate=0.02), "max_steps": 100, "log_every": 50}
    together = ar.fit_many(problems, model, penalty=ar.penalties.ratio(0.01), seeds=[3, 4], **kw)
    for p, seed, batched in zip(problems, (3, 4), together, strict=True):
        alone = ar.fit(p, model, penalty=ar.penalties.ratio(0.01), seed=seed, **kw)
        np.testing.assert_allclose(batched.matrix, alone.matrix, rtol=1e-5, atol=1e-6)


def test_a_trial_of_a_model_with_factors_trains_on_the_sparse_ratings():
    from algoreg.problems.ratings import for_model

    dense, _ = _ratings_pair("bias")
    factored = ar.models.get("factored", rank=3)
    sparse = for_model(dense, factored)
    assert isinstance(sparse, ar.problems.SparseRatingsProblem) and sparse.source is dense
    assert repr(sparse) == "Sparse" + repr(dense)
    assert for_model(dense, ar.models.get("factorization", depth=2)) is dense
    completion = ar.problems.completion((6, 5), 1, 12, seed=0)
    assert for_model(completion, factored) is completion
