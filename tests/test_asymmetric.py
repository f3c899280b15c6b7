"""Over-parameterized asymmetric factorization (Jiang, Chen, Ding 2023) and automatic balance
(Du, Hu, Lee 2018): the exact one-step drift of FᵀF − GᵀG, decaying steps, small-init GD
fitting principal components one at a time, and ReLU chains' conserved norm differences."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import algoreg as ar
from algoreg.errors import ConfigError
from algoreg.models import invariant_drift
from algoreg.problems import matrix


def test_one_gd_step_moves_the_invariant_by_exactly_eta_squared_times_the_formula():
    """D' − D = η²(GᵀRᵀRG − FᵀRRᵀF) for F' = F − ηRG, G' = G − ηRᵀF, R = ∇ℓ(FGᵀ): an
    identity, so it holds to rounding for any loss, start and step (float64)."""
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        F, G = jnp.asarray(rng.standard_normal((7, 4))), jnp.asarray(rng.standard_normal((5, 4)))
        X = jnp.asarray(rng.standard_normal((7, 5)))

        def loss(W):  # not quadratic: the identity needs only the chain rule
            return jnp.sum((W - X) ** 2) / 2 + 0.1 * jnp.sum(W**4)

        eta = 0.03
        R = jax.grad(loss)(F @ G.T)
        gF, gG = jax.grad(lambda F, G: loss(F @ G.T), argnums=(0, 1))(F, G)
        np.testing.assert_allclose(gF, R @ G, rtol=1e-12)  # the gradients the formula assumes
        F1, G1 = F - eta * gF, G - eta * gG
        moved = (F1.T @ F1 - G1.T @ G1) - (F.T @ F - G.T @ G)
        expected = invariant_drift((F, G), R, eta)
        assert float(jnp.max(jnp.abs(expected))) > 1e-3  # not a comparison of zeros
        np.testing.assert_allclose(moved, expected, rtol=0, atol=1e-12)


def test_the_engine_logs_the_drift_rate_that_predicts_each_step():
    p = matrix(shape=(12, 9), values=[1.0, 0.5], tail=[0.0, 0.0], seed=1)
    model = ar.models.get("asymmetric", rank=4, init_scale=0.3, imbalance=3.0)
    for opt in (ar.optim.gd(0.1), ar.optim.gd_decay(0.3, 0.6)):
        r = ar.fit(p, model, optimizer=opt, max_steps=200, log_every=1, dtype="float64")
        assert r.metrics["drift_identity_err"] < 1e-9
        assert r.metrics["invariant_drift"] > 1e-4  # the invariant did move (discrete steps)


def test_gd_decay_takes_steps_eta0_over_t_plus_one_to_the_power():
    opt = ar.optim.gd_decay(learning_rate=0.5, power=0.75)
    tx = opt.build()
    params = jnp.zeros(3)
    state = tx.init(params)
    for t in range(4):
        updates, state = tx.update(jnp.ones(3), state, params)
        np.testing.assert_allclose(updates, -0.5 / (t + 1) ** 0.75 * np.ones(3), rtol=1e-6)
    for bad in (0.5, 0.3, 1.2):  # Du, Hu, Lee's 1/2 + δ with 0 < δ ≤ 1/2
        with pytest.raises(ConfigError, match=r"gd_decay'?: power must be"):
            ar.optim.gd_decay(power=bad)


def test_an_optax_schedule_runs_through_fit_unchanged():
    """Any optax schedule is usable from Python: optax.sgd(schedule) is a transformation."""
    p = matrix(shape=(6, 5), values=[1.0], tail=[0.0, 0.0], seed=0)
    model = ar.models.get("asymmetric", rank=2, init_scale=1e-2)
    sched = optax.sgd(lambda t: 0.5 / (t + 1.0) ** 0.75)
    a = ar.fit(p, model, optimizer=sched, max_steps=50, log_every=10, dtype="float64")
    b = ar.fit(p, model, optimizer=ar.optim.gd_decay(0.5, 0.75), max_steps=50, log_every=10,
               dtype="float64")  # fmt: skip
    np.testing.assert_allclose(a.matrix, b.matrix, rtol=1e-12, atol=1e-15)


def test_decaying_steps_balance_and_converge_while_an_unbalanced_start_stalls():
    """Du, Hu, Lee (2018): from a small start, η_t = η₀/(t+1)^{3/4} ends balanced at a global
    optimum; ‖F₀‖/‖G₀‖ ≈ 300 with a step small enough not to diverge does not get there."""
    p = matrix(shape=(30, 20), values=[1.0, 0.7, 0.4], tail=[0.0, 0.0], seed=0)
    small = ar.models.get("asymmetric", rank=3, init_scale=1e-3)
    r = ar.fit(p, small, optimizer=ar.optim.gd_decay(0.5, 0.75), max_steps=20_000,
               log_every=2000, dtype="float64")  # fmt: skip
    assert r.metrics["train_error"] < 1e-2
    assert abs(r.metrics["balance_ratio"] - 1) < 0.01
    skewed = ar.models.get("asymmetric", rank=3, init_scale=0.03**0.5, imbalance=300**0.5)
    s = ar.fit(p, skewed, optimizer=ar.optim.gd_decay(0.01, 0.75), max_steps=20_000,
               log_every=2000, dtype="float64")  # fmt: skip
    assert s.metrics["balance_ratio"] > 10 and s.metrics["train_error"] > 0.5


def test_small_init_gd_fits_principal_components_one_at_a_time():
    """Jiang, Chen, Ding (2023): a staircase in order of σ_i, near ln(1/α)/(ησ_i); early
    stopping passes within a tiny fraction of ‖X − X_3‖ of X_3, then the tail overfits."""
    p = matrix(shape=(40, 30), values=[1.0, 0.7, 0.45], tail=[0.05, 0.01], max_rank=4, seed=2)
    model = ar.models.get("asymmetric", rank=30, init_scale=1e-6)
    r = ar.fit(p, model, optimizer=ar.optim.gd(0.2), max_steps=2500, log_every=5,
               dtype="float64")  # fmt: skip
    m = r.metrics
    assert m["switch_ordered"] == 1.0
    times = [m[f"switch_{i}"] for i in (1, 2, 3)]
    assert times == sorted(times)
    for i in (1, 2, 3):
        assert 0.5 < m[f"switch_ratio_{i}"] < 2.0
    assert m["min_dist_rel_3"] < 1e-4
    assert m["ps_test_error"] < 0.05 and m["ps_step"] > m["min_dist_step_3"] / 2
    assert m["dist_3"] > 100 * m["min_dist_3"]  # kept going: the tail switched on (overfit)
    assert m["train_error"] < 0.05


def test_relu_chain_conserves_layer_norm_differences_far_better_than_norms():
    p = matrix(shape=(1, 12), rank=1, values=[1.0], tail=[0.0, 0.0], seed=3)
    net = ar.models.get("factorization", depth=3, width=16, nonlinearity="relu", init_scale=1.0)
    r = ar.fit(p, net, optimizer=ar.optim.gd(1e-3), max_steps=4000, log_every=400,
               dtype="float64")  # fmt: skip
    m = r.metrics
    assert m["layer_norm_change"] > 0.05
    assert m["layer_gap_drift"] < 0.01 * m["layer_norm_change"]
    assert m["neuron_gap_drift"] < 0.01 * m["layer_norm_change"]
    assert r.history["neuron_gaps"].shape[1] == 2 * 16


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"rank": 0}, "rank must be >= 1"),
        ({"init_scale": 0.0}, "init_scale must be > 0"),
        ({"imbalance": -1.0}, "imbalance must be > 0"),
    ],
)
def test_asymmetric_settings_are_checked(params, match):
    with pytest.raises(ConfigError, match=match):
        ar.models.get("asymmetric", **params)


def test_labels_name_width_and_imbalance():
    assert ar.models.get("asymmetric", rank=80).label("gd") == "asymmetric k=80 gd"
    skew = ar.models.get("asymmetric", rank=3, imbalance=30.0)
    assert skew.label("gd_decay") == "asymmetric k=3 gd_decay unbalanced ×30"


BAD_STUDY = """
name = "bad"
n_seeds = 1
[problem]
kind = "matrix"
shape = [6, 5]
{problem}
[model]
kind = "asymmetric"
{model}
[optimizer]
kind = "{opt}"
{optimizer}
"""


@pytest.mark.parametrize(
    ("parts", "said"),
    [
        ({"model": "rank = 0"}, "model.rank: rank must be >= 1, got 0"),
        ({"model": "init_scale = -1e-3"}, "model.init_scale: init_scale must be > 0"),
        ({"opt": "gd_decay", "optimizer": "power = 0.4"}, "optimizer.power: optimizer 'gd_decay'"),
        ({"problem": "values = [1.0, 2.0]"}, "problem.values: values then tail must be"),
        ({"problem": 'path = "nowhere.npy"\nrank = 1'}, "no such file"),
    ],
)
def test_bad_study_files_name_the_key(tmp_path, capsys, parts, said):
    from algoreg.cli import main

    text = BAD_STUDY.format(**{"problem": "", "model": "", "opt": "gd", "optimizer": "", **parts})
    (tmp_path / "bad.toml").write_text(text)
    assert main(["run", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err) and err[-1].startswith("algoreg: error: ")
    assert said in err[-1], err[-1]
    assert not (tmp_path / "o").exists()
