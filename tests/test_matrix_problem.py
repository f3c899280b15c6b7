"""The fully observed matrix problem: spectra, best low-rank approximations, files, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from algoreg.errors import ConfigError
from algoreg.problems import MatrixProblem, check_matrix, make_spectrum, matrix


def _metrics(p, W):
    with jax.enable_x64(True):
        data = {k: jnp.asarray(v) for k, v in p.data().items()}
        return {k: float(v) for k, v in p.metrics(jnp.asarray(W), data).items()}


def test_synthetic_x_has_the_requested_spectrum_and_x_r_are_its_best_approximations():
    p = matrix(shape=(9, 7), values=[3.0, 2.0, 1.0], tail=[0.2, 0.1], max_rank=4, seed=5)
    s = np.linalg.svd(p.X, compute_uv=False)
    np.testing.assert_allclose(s, [3, 2, 1, *np.linspace(0.2, 0.1, 4)], atol=1e-12)
    assert p.rank == 3 and p.max_rank == 4
    for r in range(1, 5):  # Eckart–Young: ‖X − X_r‖_F² = Σ_{i>r} σ_i²
        np.testing.assert_allclose(
            np.linalg.norm(p.X - p.approx[r - 1]), np.sqrt(np.sum(s[r:] ** 2))
        )
        assert np.linalg.matrix_rank(p.approx[r - 1], tol=1e-9) == r
    at_x3 = _metrics(p, p.approx[2])
    assert at_x3["dist_3"] < 1e-12 and at_x3["test_error"] < 1e-12
    np.testing.assert_allclose(at_x3["dist_4"], s[3], rtol=1e-10)
    at_x = _metrics(p, p.X)
    assert at_x["train_error"] < 1e-12 and np.isnan(at_x["truth_error"])


def test_power_law_spectrum_and_the_noisy_copy():
    np.testing.assert_allclose(
        make_spectrum(4, "power_law", exponent=2.0), [1, 1 / 4, 1 / 9, 1 / 16]
    )
    p = matrix(shape=(20, 15), rank=2, values=[1.0, 0.5], tail=[0.0, 0.0], noise=0.01,
               validation=True, seed=0)  # fmt: skip
    assert p.known_truth() is not None and p.validation is not None
    m = _metrics(p, p.truth)
    assert m["truth_error"] == 0.0
    # the held-out copy has independent noise: its error at the truth is the noise level
    np.testing.assert_allclose(m["val_error"], 0.01 * np.sqrt(300) / np.linalg.norm(p.validation),
                               rtol=0.2)  # fmt: skip


def test_a_matrix_file_round_trips(tmp_path):
    X = np.random.default_rng(0).standard_normal((6, 4))
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    for name in ("x.npy", "x.csv"):
        checked = check_matrix(path=str(tmp_path / name), rank=2)
        assert checked["shape"] == (6, 4)
        p = matrix(**{k: v for k, v in checked.items() if k != "seed"}, seed=0)
        np.testing.assert_allclose(p.X, X, rtol=1e-12)
    with pytest.raises(ConfigError, match=r"shape \(5, 4\) does not match"):
        check_matrix(path=str(tmp_path / "x.npy"), shape=[5, 4], rank=2)
    with pytest.raises(ConfigError, match="noise describes a synthetic X"):
        check_matrix(path=str(tmp_path / "x.npy"), rank=2, noise=0.1)
    with pytest.raises(ConfigError, match="no such file"):
        check_matrix(path=str(tmp_path / "missing.npy"), rank=1)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"shape": [5, 4], "rank": 5}, "rank must be <= 4"),
        ({"shape": [5, 4], "values": [1.0, 2.0]}, "non-increasing"),
        ({"shape": [5, 4], "spectrum": "power_law"}, "rank .* is required"),
        ({"shape": [5, 4], "spectrum": "power_law", "rank": 1, "tail": [1, 0]}, "exponent, not"),
        ({"shape": [5, 4], "validation": True}, "needs noise > 0"),
        ({"shape": [5, 4], "max_rank": 9}, "max_rank must be <= 4"),
        ({}, "give shape"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ConfigError, match=match):
        check_matrix(**params)


def test_non_finite_x_is_refused_with_its_position():
    X = np.ones((3, 3))
    X[1, 2] = np.nan
    with pytest.raises(ConfigError, match=r"1 non-finite entry .* row 1, column 2"):
        MatrixProblem(X, rank=1)
