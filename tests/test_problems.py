import numpy as np
import pytest

import algoreg as ar
from algoreg.errors import ConfigError


def test_truth_is_rank_r_with_rms_one():
    W = ar.problems.low_rank((40, 60), 4, seed=1)
    assert W.shape == (40, 60)
    assert np.linalg.matrix_rank(W) == 4
    assert np.linalg.norm(W) == pytest.approx(np.sqrt(40 * 60))


def test_completion_observes_n_obs_entries_and_nests_across_sizes():
    small = ar.problems.completion((30, 20), 3, 100, seed=5)
    big = ar.problems.completion((30, 20), 3, 300, seed=5)
    assert small.n_obs == small.mask.sum() == 100
    assert np.array_equal(small.truth, big.truth)
    assert np.all(big.mask[small.mask])  # nested observation sets
    other = ar.problems.completion((30, 20), 3, 100, seed=6)
    assert not np.array_equal(other.truth, small.truth)


def test_completion_loss_and_metrics_closed_forms():
    p = ar.problems.completion((20, 20), 2, 150, seed=0)
    at_truth = p.evaluate(p.truth)
    assert at_truth["train_loss"] == pytest.approx(0, abs=1e-10)
    assert at_truth["test_error"] == pytest.approx(0, abs=1e-6)
    at_zero = p.evaluate(np.zeros((20, 20)))
    assert at_zero["test_error"] == pytest.approx(1.0)
    assert at_zero["rel_error"] == pytest.approx(1.0)
    assert at_zero["mse"] == pytest.approx(1.0, rel=1e-5)  # RMS entry 1
    assert at_zero["train_loss"] == pytest.approx(np.mean(p.truth[p.mask] ** 2), rel=1e-5)
    # changing an unobserved entry moves test error but not the train loss
    W = p.truth.copy()
    i, j = np.argwhere(~p.mask)[0]
    W[i, j] += 1.0
    moved = p.evaluate(W)
    assert moved["train_loss"] == pytest.approx(0, abs=1e-10)
    expected = 1.0 / np.linalg.norm(p.truth[~p.mask])
    assert moved["test_error"] == pytest.approx(expected, rel=1e-5)


def test_completion_noise_only_on_observations():
    p = ar.problems.completion((20, 20), 2, 100, noise=0.1, seed=0)
    resid = (p.observed - p.truth)[p.mask]
    assert 0.05 < resid.std() < 0.15
    assert np.all(p.observed[~p.mask] == 0)


def test_sensing_measurements_and_padding():
    p = ar.problems.sensing((10, 12), 2, 50, seed=3)
    assert p.A.shape == (50, 10, 12)
    assert np.allclose(p.y, np.einsum("kij,ij->k", p.A, p.truth))
    assert np.std(p.y) == pytest.approx(1.0, rel=0.35)  # default scale 1/√(mn): unit variance
    assert p.evaluate(p.truth)["train_loss"] == pytest.approx(0, abs=1e-10)
    q = ar.problems.sensing((10, 12), 2, 30, seed=3)
    assert np.allclose(q.A, p.A[:30])  # nested measurement sets
    stacked = ar.problems.SensingProblem.stack([p, q])
    assert stacked["A"].shape == (2, 50, 10, 12)
    assert stacked["weight"][1].sum() == 30


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rank": 11}, "rank must be <= 10"),
        ({"n_obs": 101}, "n_obs must be <= 100"),
        ({"n_obs": 0}, "n_obs must be >= 1"),
        ({"noise": -1.0}, "noise must be >= 0"),
        ({"shape": (10,)}, "shape must be a pair"),
        ({"shape": (10, 0)}, r"shape\[1\] must be >= 1"),
        ({"rank": 2.5}, "rank must be an integer"),
    ],
)
def test_completion_rejects_bad_parameters(kwargs, match):
    args = {"shape": (10, 10), "rank": 2, "n_obs": 50, **kwargs}
    with pytest.raises(ConfigError, match=match):
        ar.problems.completion(**args)


def test_sensing_rejects_bad_scale():
    with pytest.raises(ConfigError, match="measurement_scale must be > 0"):
        ar.problems.sensing((5, 5), 1, 10, measurement_scale=-1.0)


def test_completion_problem_from_arrays_validates():
    truth = np.ones((4, 5))
    with pytest.raises(ConfigError, match="mask shape"):
        ar.problems.CompletionProblem(truth, np.ones((5, 4), bool))
    with pytest.raises(ConfigError, match="observes no entry"):
        ar.problems.CompletionProblem(truth, np.zeros((4, 5), bool))
    with pytest.raises(ConfigError, match="non-finite"):
        ar.problems.CompletionProblem(np.full((4, 5), np.nan), np.ones((4, 5), bool))


def test_completion_without_truth_trains_and_reports_nan_truth_metrics():
    full = ar.problems.completion((12, 10), 2, 80, seed=0)
    p = ar.problems.CompletionProblem(None, full.mask, full.observed)
    m = p.evaluate(full.truth)
    assert m["train_loss"] == pytest.approx(0, abs=1e-10)
    assert np.isnan(m["test_error"]) and np.isnan(m["mse"])
    r = ar.fit(p, ar.models.factorization(2), optimizer=ar.optim.adam(1e-2), max_steps=50)
    assert np.isfinite(r.train_loss) and np.isnan(r.test_error)
    with pytest.raises(ConfigError, match="observed is required"):
        ar.problems.CompletionProblem(None, full.mask)


def test_validation_split_is_held_out_of_training_and_test():
    p = ar.problems.completion((20, 20), 2, 200, validation=0.25, seed=1)
    assert p.n_obs == 150 and p.val_mask.sum() == 50
    assert not np.any(p.val_mask & p.mask)
    full = ar.problems.completion((20, 20), 2, 200, seed=1)
    assert np.array_equal(p.mask | p.val_mask, full.mask)  # the same observed entries
    W = p.truth.copy()
    i, j = np.argwhere(p.val_mask)[0]
    W[i, j] += 2.0  # a validation entry: moves val_error only
    m = p.evaluate(W)
    assert m["train_loss"] == pytest.approx(0, abs=1e-10)
    assert m["test_error"] == pytest.approx(0, abs=1e-7)
    assert m["val_error"] == pytest.approx(2.0 / np.linalg.norm(p.truth[p.val_mask]), rel=1e-5)
    assert np.isnan(full.evaluate(W)["val_error"])
    with pytest.raises(ConfigError, match="validation must be < 1"):
        ar.problems.completion((20, 20), 2, 200, validation=1.0)


def test_entries_problem_razin_cohen_2x2():
    p = ar.problems.entries((2, 2), [[0, 1, 1.0], [1, 0, 1.0], [1, 1, 0.0]])
    assert p.mask.tolist() == [[False, True], [True, True]] and p.n_obs == 3
    m = p.evaluate(np.array([[-7.0, 1.0], [1.0, 0.0]]))
    assert m["train_loss"] == 0.0 and m["unobserved_abs_max"] == 7.0
    assert np.isnan(m["test_error"])  # no truth


@pytest.mark.parametrize(
    ("observed", "match"),
    [
        ([], "non-empty list"),
        ([[0, 1]], r"observed\[0\] must be \[i, j, value\]"),
        ([[0, 2, 1.0]], r"observed\[0\] column must be <= 1"),
        ([[0, 1, 1.0], [0, 1, 2.0]], r"observed\[1\]: entry \(0, 1\) is given twice"),
        ([[0, 1, "x"]], r"observed\[0\] value must be a real number"),
    ],
)
def test_entries_problem_rejects_bad_entries(observed, match):
    with pytest.raises(ConfigError, match=match):
        ar.problems.entries((2, 2), observed)
