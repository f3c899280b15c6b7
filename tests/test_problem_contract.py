"""The contract every registered problem kind (``algoreg.problems.PROBLEMS``) passes: its
checker validates without generating data and returns the ``shape`` and ``seed`` the study
resolver relies on; the generator is a pure function of the seed; the loss is ≥ 0 and 0 at the
truth where the truth is known; errors name the parameter."""

import jax.numpy as jnp
import numpy as np
import pytest
from test_ratings import ml100k_path

import algoreg as ar
from algoreg.errors import ConfigError
from algoreg.problems import PROBLEMS, Problem

# one small instance per registered kind, and a bad value of a parameter it must name
EXAMPLES = {
    "completion": ({"shape": (8, 6), "rank": 2, "n_obs": 30}, ("rank", 9)),
    "sparse_completion": ({"shape": (8, 6), "rank": 2, "n_obs": 30, "n_test": 10}, ("rank", 9)),
    "sensing": ({"shape": (6, 5), "rank": 1, "n_obs": 40}, ("n_obs", 0)),
    "entries": ({"shape": (2, 2), "observed": [[0, 1, 1], [1, 0, 1], [1, 1, 0]]}, ("shape", 3)),
    "matrix": ({"shape": (8, 6), "values": [1.0, 0.5], "tail": [0.1, 0.01]}, ("rank", 9)),
    "psd_sensing": ({"n": 4, "m": 6}, ("rank", 4)),
    "ratings": ({"path": str(ml100k_path()), "split": "u1"}, ("split", "u9")),
}


def test_every_registered_kind_has_a_contract_example():
    assert set(EXAMPLES) == set(PROBLEMS)


def _example(kind):
    if kind == "ratings" and not (ml100k_path() / "u.data").is_file():
        pytest.skip("MovieLens-100K not available")
    return EXAMPLES[kind]


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_problem_contract(kind):
    params, _ = _example(kind)
    make, check = PROBLEMS[kind]
    checked = check(**params)
    assert {"shape", "seed"} <= set(checked)
    m, n = checked["shape"]
    assert m >= 1 and n >= 1
    built = {k: v for k, v in checked.items() if k != "seed"}
    p, again, other = make(**built, seed=3), make(**built, seed=3), make(**built, seed=4)
    assert isinstance(p, Problem) and p.shape == (m, n)
    assert p.signature() == other.signature()  # seeds of one kind batch together
    data, same = p.data(), again.data()
    assert all(np.array_equal(data[k], same[k]) for k in data)  # pure in the seed
    W = jnp.asarray(np.random.default_rng(0).standard_normal((m, n)), jnp.float32)
    jdata = {k: jnp.asarray(v) for k, v in data.items()}
    assert float(p.loss(W, jdata)) >= 0
    metrics = p.metrics(W, jdata)
    assert "test_error" in metrics
    truth = p.known_truth()
    if kind != "entries":  # a few given entries and no truth: no test error (NaN)
        assert np.isfinite(float(metrics["test_error"]))
    if truth is not None:
        at_truth = p.evaluate(truth)
        assert at_truth["train_loss"] <= 1e-10 * max(1.0, float(np.mean(truth**2)))
        assert at_truth["test_error"] <= 1e-6


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_problem_errors_name_the_parameter(kind):
    params, (name, bad) = _example(kind)
    with pytest.raises(ConfigError, match=name):
        PROBLEMS[kind][1](**{**params, name: bad})


def test_a_study_file_names_an_unknown_problem_kind():
    text = 'name = "x"\n[problem]\nkind = "complection"\nshape = [6, 6]\n'
    with pytest.raises(ConfigError, match="did you mean 'completion'"):
        ar.studies.load_study(text=text)
