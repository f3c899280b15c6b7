import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

import algoreg as ar
from algoreg.errors import ConfigError
from algoreg.problems import PROBLEMS, Ratings, RatingsProblem, bias_baseline, global_mean


def ml100k_path() -> Path:
    """The real MovieLens-100K folder ($ALGOREG_ML100K, else ../shared/data/ml-100k)."""
    env = os.environ.get("ALGOREG_ML100K")
    return Path(env) if env else Path(__file__).parents[2] / "shared/data/ml-100k"


needs_ml100k = pytest.mark.skipif(
    not (ml100k_path() / "u.data").is_file(), reason="MovieLens-100K not available"
)


def tiny() -> RatingsProblem:
    """3 users × 4 items: 5 training ratings, 3 test ratings (0-based ids)."""
    train = Ratings([0, 0, 1, 2, 2], [0, 1, 2, 0, 3], [5, 3, 4, 1, 2], (3, 4))
    test = Ratings([0, 1, 2], [2, 0, 1], [4, 2, 5], (3, 4))
    return RatingsProblem(train, test, center=False)


def test_ratings_loss_and_metrics_closed_forms():
    p = tiny()
    assert p.shape == (3, 4) and p.n_obs == 5 and p.n_test == 3
    train_r, test_r = np.array([5, 3, 4, 1, 2.0]), np.array([4, 2, 5.0])
    at_zero = p.evaluate(np.zeros((3, 4)))
    assert at_zero["train_loss"] == pytest.approx(np.mean(train_r**2))
    assert at_zero["rmse"] == pytest.approx(np.sqrt(np.mean(test_r**2)))
    assert at_zero["mae"] == pytest.approx(np.mean(test_r))
    # clipping W = 0 to [1, 5] predicts 1 everywhere
    assert at_zero["rmse_clipped"] == pytest.approx(np.sqrt(np.mean((test_r - 1) ** 2)))
    assert at_zero["mae_clipped"] == pytest.approx(np.mean(test_r - 1))
    assert at_zero["test_error"] == at_zero["rmse"]  # test_error is the unclipped RMSE
    # predictions equal to the test ratings, 7 elsewhere: test errors vanish, train loss does not
    W = np.full((3, 4), 7.0)
    W[[0, 1, 2], [2, 0, 1]] = test_r
    m = p.evaluate(W)
    assert m["rmse"] == pytest.approx(0, abs=1e-6) and m["mae"] == pytest.approx(0, abs=1e-6)
    assert m["train_loss"] == pytest.approx(np.mean((7 - train_r) ** 2))
    assert m["train_rmse"] == pytest.approx(np.sqrt(m["train_loss"]))
    # a prediction above the scale: clipping reduces that error to 0
    W = np.zeros((3, 4))
    W[[0, 1, 2], [2, 0, 1]] = [4.0, 2.0, 9.0]
    m = p.evaluate(W)
    assert m["rmse"] == pytest.approx(4 / np.sqrt(3), rel=1e-6)
    assert m["mae"] == pytest.approx(4 / 3, rel=1e-6)
    assert m["rmse_clipped"] == pytest.approx(0, abs=1e-6)


def test_centering_offsets_predictions_by_the_training_mean():
    p0 = tiny()
    p = RatingsProblem(p0.train, p0.test)  # center=True by default
    mu = np.mean([5, 3, 4, 1, 2])
    assert p.offset == pytest.approx(mu)
    at_zero = p.evaluate(np.zeros((3, 4)))
    assert at_zero["train_loss"] == pytest.approx(np.var([5, 3, 4, 1, 2]), rel=1e-6)
    # centred W and uncentred W + μ make the same predictions
    W = np.arange(12.0).reshape(3, 4) / 6
    a, b = p.evaluate(W), p0.evaluate(W + mu)
    assert a == pytest.approx(b, rel=1e-5, nan_ok=True)  # val_error: NaN without a val set
    assert np.allclose(p.predict(W), W + mu)
    # the completion view fits centred ratings on the training mask only
    c = p.as_completion()
    assert np.array_equal(c.mask, p.mask) and c.n_obs == 5
    assert c.observed[0, 0] == pytest.approx(5 - mu) and c.observed[0, 2] == 0  # test entry
    assert c.evaluate(W)["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)


def test_data_is_float32_and_same_shape_problems_batch():
    p = tiny()
    d = p.data()
    assert {d[k].dtype for k in ("mask", "test_mask", "values")} == {np.dtype(np.float32)}
    assert d["mask"].sum() == 5 and d["test_mask"].sum() == 3
    assert not np.any(d["mask"] * d["test_mask"])
    q = RatingsProblem(Ratings([1], [1], [3], (3, 4)), Ratings([0], [0], [5], (3, 4)))
    assert p.signature() == q.signature()
    stacked = RatingsProblem.stack([p, q])
    assert stacked["values"].shape == (2, 3, 4) and stacked["offset"].tolist() == [0.0, 3.0]
    other = RatingsProblem(Ratings([1], [1], [3], (3, 5)), Ratings([0], [0], [5], (3, 5)))
    assert other.signature() != p.signature()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Ratings([0, 0], [1, 1], [3, 4], (2, 2)), r"duplicated \(user 0, item 1\)"),
        (lambda: Ratings([2], [0], [3], (2, 2)), r"user index 2 out of range \[0, 2\)"),
        (lambda: Ratings([0], [0], [np.nan], (2, 2)), "non-finite rating"),
        (
            lambda: RatingsProblem(Ratings([0], [1], [3], (2, 2)), Ratings([0], [1], [3], (2, 2))),
            r"1 \(user, item\) pairs are both in train and test",
        ),
        (
            lambda: RatingsProblem(Ratings([0], [1], [3], (2, 2)), Ratings([], [], [], (2, 2))),
            "no test ratings",
        ),
    ],
)
def test_ratings_reject_bad_input(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


def test_baselines_closed_forms():
    # additive ratings μ + a_u + b_i on a connected pattern: unregularized biases are exact
    rng = np.random.default_rng(0)
    m, n = 12, 15
    a, b = rng.normal(size=m), rng.normal(size=n)
    full = 3.0 + a[:, None] + b[None, :]
    obs = rng.random((m, n)) < 0.5
    obs[:, 0] = obs[0, :] = True  # connected: every user and item is linked
    tu, ti = np.nonzero(obs)
    su, si = np.nonzero(~obs)
    p = RatingsProblem(
        Ratings(tu, ti, full[tu, ti], (m, n)),
        Ratings(su, si, full[su, si], (m, n)),
        rating_range=(-10.0, 10.0),
    )
    gm = global_mean(p)
    mu = full[obs].mean()
    assert gm.mean == pytest.approx(mu)
    assert gm.rmse == pytest.approx(np.sqrt(np.mean((full[~obs] - mu) ** 2)), rel=1e-5)
    exact = bias_baseline(p, lam_user=0.0, lam_item=0.0, sweeps=500)
    assert exact.rmse < 1e-3
    assert np.allclose(exact.predictions(), full, atol=1e-3)
    shrunk = bias_baseline(p, lam_user=50.0, lam_item=50.0)
    assert exact.rmse < shrunk.rmse < gm.rmse  # heavy shrinkage moves toward the global mean
    with pytest.raises(ConfigError, match="lam_user must be >= 0"):
        bias_baseline(p, lam_user=-1.0)


def test_short_fit_on_a_ratings_problem_reduces_train_loss():
    rng = np.random.default_rng(1)
    m, n, r = 20, 30, 2
    full = np.clip(np.round(3 + rng.normal(size=(m, r)) @ rng.normal(size=(r, n))), 1, 5)
    order = rng.permutation(m * n)
    tr, te = order[:360], order[360:]
    p = RatingsProblem(
        Ratings(tr // n, tr % n, full.flat[tr], (m, n)),
        Ratings(te // n, te % n, full.flat[te], (m, n)),
    )
    result = ar.fit(
        p,
        ar.models.factorization(depth=2, init_scale=1e-2),
        optimizer=ar.optim.adam(learning_rate=1e-2),
        max_steps=300,
        log_every=100,
    )
    h = result.history["train_loss"]
    assert h[0] == pytest.approx(np.var(full.flat[tr]), rel=1e-2)  # W ≈ 0 predicts the mean
    assert h[-1] < 0.5 * h[0]
    assert {"rmse", "rmse_clipped", "mae", "mae_clipped"} <= set(result.metrics)
    assert result.metrics["rmse_clipped"] <= result.metrics["rmse"] + 1e-6
    assert result.test_error == pytest.approx(p.evaluate(result.matrix)["rmse"], rel=1e-4)


def test_registry_checker_validates_without_reading(tmp_path):
    gen, check = PROBLEMS["ratings"]
    (tmp_path / "u.data").write_text("1\t1\t5\t0\n")  # the checker hashes it, parses nothing
    out = check(str(tmp_path), "arora", n_train=5000, seed=2)
    digest = hashlib.sha256(b"u.data\0" + (tmp_path / "u.data").read_bytes()).hexdigest()[:16]
    assert out == {
        "path": str(tmp_path),
        "split": "arora",
        "test_fraction": None,
        "n_train": 5000,
        "center": True,
        "dataset": "ml-100k",
        "validation": 0.0,
        "shape": (943, 1682),
        "data_sha256": digest,
        "seed": 2,
    }
    with pytest.raises(ConfigError, match="validation must be < 1"):
        check(str(tmp_path), "random", validation=1.0)
    assert check(str(tmp_path), "random")["test_fraction"] == 0.2
    with pytest.raises(ConfigError, match=r"does not exist.*grouplens\.org"):
        check(str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="test_fraction applies to split 'random' only"):
        check(str(tmp_path), "u1", test_fraction=0.1)
    with pytest.raises(ConfigError, match="split 'arora' needs n_train"):
        check(str(tmp_path), "arora")
    with pytest.raises(ConfigError, match="n_train must be <= 99999"):
        check(str(tmp_path), "arora", n_train=100_000)
    with pytest.raises(ConfigError, match=r"split must be one of.*Did you mean 'random'"):
        check(str(tmp_path), "radnom")
    with pytest.raises(ConfigError, match=r"u1\.base does not exist"):
        check(str(tmp_path), "u1")  # a canonical split's files enter its digest
    with pytest.raises(ConfigError, match="not the original MovieLens-100K"):
        gen(str(tmp_path), "random")  # the generator reads and verifies the data


@needs_ml100k
def test_real_u1_baselines_are_in_the_published_range():
    p = ar.datasets.movielens100k(ml100k_path(), "u1")
    assert (p.n_obs, p.n_test, p.shape) == (80_000, 20_000, (943, 1682))
    gm, bias = global_mean(p), bias_baseline(p)
    assert 1.12 < gm.rmse < 1.18  # ≈ 1.154
    assert 0.94 < bias.rmse < 0.97  # ≈ 0.955
    assert bias.metrics["rmse_clipped"] <= bias.rmse
    assert bias.metrics["mae"] < gm.metrics["mae"]


@needs_ml100k
def test_study_file_with_a_ratings_problem_builds_it():
    from algoreg.studies import expand, load_study
    from algoreg.studies.runner import build_problem

    text = f"""
name = "ml"
n_seeds = 1
[problem]
kind = "ratings"
path = "{ml100k_path()}"
split = "arora"
n_train = 20000
[model]
depth = 1
[train]
max_steps = 10
"""
    trials = expand(load_study(text=text))
    assert len(trials) == 1
    p = build_problem(trials[0].config)
    assert isinstance(p, RatingsProblem) and (p.n_obs, p.n_test) == (20_000, 80_000)


def test_validation_split_holds_out_training_ratings():
    from algoreg.problems.ratings import hold_out

    rng = np.random.default_rng(0)
    keys = rng.choice(20 * 30, 300, replace=False)
    users, items = np.divmod(keys, 30)
    values = rng.integers(1, 6, 300).astype(float)
    full = RatingsProblem(
        Ratings(users[:250], items[:250], values[:250], (20, 30)),
        Ratings(users[250:], items[250:], values[250:], (20, 30)),
    )
    p = hold_out(full, 0.2, seed=1)
    assert (p.n_obs, len(p.val), p.n_test) == (200, 50, 50)
    assert np.union1d(p.train.keys, p.val.keys).tolist() == sorted(full.train.keys.tolist())
    assert p.offset == pytest.approx(p.train.values.mean())  # μ₀ from the remaining ratings
    W = rng.standard_normal((20, 30))
    pred = W + p.offset
    val_rmse = np.sqrt(np.mean((pred[p.val.users, p.val.items] - p.val.values) ** 2))
    m = p.evaluate(W)
    assert m["val_error"] == pytest.approx(val_rmse, rel=1e-5)
    assert p.evaluate(W)["train_loss"] == pytest.approx(  # the loss never sees V
        np.mean((pred[p.train.users, p.train.items] - p.train.values) ** 2), rel=1e-5
    )
    assert np.isnan(full.evaluate(W)["val_error"])
    assert hold_out(full, 0.2, seed=1).val.keys.tolist() == p.val.keys.tolist()  # seeded
    with pytest.raises(ConfigError, match=r"validation=0\.001 of 250 training ratings is empty"):
        hold_out(full, 0.001)
