"""MovieLens done as recommender papers do it: five folds, validation split of the training
ratings, bias centering, biased MF by ALS, SoftImpute's fast path, the scikit-surprise adapter
and the fold-pooled report."""

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from algoreg.baselines import BASELINES, lambda_max, solve
from algoreg.baselines.biased_mf import fit_als, rating_scores
from algoreg.baselines.recommender import SURPRISE_MISSING, surprise_available
from algoreg.errors import ConfigError, SlowWarning
from algoreg.problems import CompletionProblem, Ratings, RatingsProblem
from algoreg.problems.bias_fit import fit_biases
from algoreg.problems.ratings import hold_out


def ml100k_path() -> Path:
    """The real MovieLens-100K folder ($ALGOREG_ML100K, else ../shared/data/ml-100k)."""
    env = os.environ.get("ALGOREG_ML100K")
    return Path(env) if env else Path(__file__).parents[2] / "shared/data/ml-100k"


needs_ml100k = pytest.mark.skipif(
    not (ml100k_path() / "u.data").is_file(), reason="MovieLens-100K not available"
)
needs_surprise = pytest.mark.skipif(not surprise_available(), reason="scikit-surprise absent")


def biased_low_rank(m=60, n=80, rank=3, noise=0.05, frac=0.6, seed=0, val=0.15):
    """Ratings μ + b_u + b_i + P Qᵀ + noise on a random ``frac`` of the entries: (problem, the
    noiseless matrix). 15% of the training ratings are held out for validation."""
    rng = np.random.default_rng(seed)
    bu, bi = 0.5 * rng.standard_normal(m), 0.5 * rng.standard_normal(n)
    P, Q = rng.standard_normal((m, rank)), rng.standard_normal((n, rank))
    truth = 3.0 + bu[:, None] + bi[None, :] + P @ Q.T / np.sqrt(rank)
    keys = rng.permutation(m * n)[: int(frac * m * n)]
    users, items = np.divmod(keys, n)
    values = truth[users, items] + noise * rng.standard_normal(keys.size)
    cut = int(0.8 * keys.size)
    train = Ratings(users[:cut], items[:cut], values[:cut], (m, n))
    test = Ratings(users[cut:], items[cut:], values[cut:], (m, n))
    problem = RatingsProblem(train, test, rating_range=(-10.0, 20.0))
    return hold_out(problem, val, seed=seed), truth


# ------------------------------------------------------------------------------ folds


@needs_ml100k
def test_the_five_canonical_folds_partition_the_ratings_and_validation_never_touches_test():
    from algoreg.datasets import split_movielens100k
    from algoreg.problems.ratings_study import ratings

    folder = ml100k_path()
    tests = []
    for k in range(1, 6):
        base, test = split_movielens100k(folder, f"u{k}")
        assert np.intersect1d(base.keys, test.keys).size == 0
        assert (len(base), len(test)) == (80_000, 20_000)
        tests.append(test.keys)
    all_test = np.concatenate(tests)
    assert np.unique(all_test).size == 100_000  # the test folds are disjoint and cover u.data
    p = ratings(str(folder), "u3", validation=0.1, seed=4)
    base, test = split_movielens100k(folder, "u3")
    assert len(p.val) == 8_000 and p.n_obs == 72_000
    assert np.setdiff1d(p.val.keys, base.keys).size == 0  # drawn from u3.base only
    assert np.intersect1d(p.val.keys, test.keys).size == 0
    assert np.array_equal(np.sort(p.test.keys), np.sort(test.keys))  # the test fold as is


def test_validation_split_is_seeded_and_drawn_from_training_ratings_only():
    p, _ = biased_low_rank(val=0.1)
    full_train = np.union1d(p.train.keys, p.val.keys)
    assert np.intersect1d(p.val.keys, p.test.keys).size == 0
    assert np.intersect1d(full_train, p.test.keys).size == 0
    again, _ = biased_low_rank(val=0.1)
    assert np.array_equal(again.val.keys, p.val.keys)


# ------------------------------------------------------------------------------ biases


def test_bias_centering_fits_residuals_of_the_tuned_bias_model():
    p, _ = biased_low_rank()
    b = RatingsProblem(p.train, p.test, center="bias", val=p.val, rating_range=(-10.0, 20.0))
    mu, bu, bi = fit_biases(
        p.train.users, p.train.items, p.train.values, p.shape,
        lam_user=b.bias_lam, lam_item=b.bias_lam,
    )  # fmt: skip
    assert b.offset == pytest.approx(mu) and np.allclose(b.user_bias, bu)
    assert np.allclose(b.baseline, mu + bu[:, None] + bi[None, :])
    # W = 0 predicts the bias model; the same predictions score the same on both problems
    W = np.zeros(p.shape)
    assert b.evaluate(W)["rmse"] == pytest.approx(p.evaluate(b.baseline - p.offset)["rmse"])
    assert np.allclose(b.predict(W), b.baseline)
    # the completion view holds the bias residuals on Ω
    tr = p.train
    assert np.allclose(b.observed[tr.users, tr.items], tr.values - b.baseline[tr.users, tr.items])
    assert b.data()["offset"].shape == p.shape
    # λ of the bias model is the grid's lowest validation RMSE
    errs = {}
    for lam in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0):
        mu, bu, bi = fit_biases(tr.users, tr.items, tr.values, p.shape, lam_user=lam, lam_item=lam)
        pred = mu + bu[p.val.users] + bi[p.val.items]
        errs[lam] = np.sqrt(np.mean((pred - p.val.values) ** 2))
    assert b.bias_lam == min(errs, key=errs.get)
    with pytest.raises(ConfigError, match=r'center must be true .* or "bias"'):
        RatingsProblem(p.train, p.test, center="biases")


# -------------------------------------------------------------------------- biased MF


def test_rating_scores_closed_forms_clipped_and_unclipped():
    pred = np.array([0.0, 3.0, 6.5, 4.0])
    values = np.array([1.0, 3.0, 5.0, 5.0])
    s = rating_scores(pred, values, 1.0, 5.0)
    assert s["rmse"] == pytest.approx(np.sqrt((1 + 0 + 2.25 + 1) / 4))
    assert s["mae"] == pytest.approx((1 + 0 + 1.5 + 1) / 4)
    # clipped: 0 → 1 (error 0), 6.5 → 5 (error 0), 4 stays (error 1)
    assert s["rmse_clipped"] == pytest.approx(np.sqrt(1 / 4))
    assert s["mae_clipped"] == pytest.approx(1 / 4)


def test_als_objective_never_increases():
    p, _ = biased_low_rank(noise=0.3)
    _, hist = fit_als(p, 5, 2.0, max_sweeps=12, patience=100)
    obj = np.asarray(hist["objective"])
    assert obj.size == 12
    assert np.all(np.diff(obj) <= 1e-9 * obj[:-1])
    assert obj[-1] < 0.5 * obj[0]
    _, weighted = fit_als(p, 5, 0.1, weighted=True, max_sweeps=8, patience=100)
    assert np.all(np.diff(weighted["objective"]) <= 1e-9 * np.asarray(weighted["objective"][:-1]))


def test_biased_mf_recovers_a_biased_low_rank_matrix():
    p, truth = biased_low_rank(noise=0.05)
    # (λ_b small: a bias shrunk by λ_b = 5 costs more than the noise at ~30 ratings per id)
    r = solve(p, "biased_mf", ranks=[1, 3], lams=[0.01, 30.0], lam_bias=0.01, max_sweeps=40)
    assert r.metrics["chosen_rank"] == 3 and r.metrics["chosen_lam"] == 0.01  # validation
    assert r.metrics["rmse"] < 0.08  # the noise level is 0.05
    pred = p.predict(r.matrix)
    assert np.sqrt(np.mean((pred - truth) ** 2)) < 0.1  # every entry, not only the test ones
    # the early-stopped history point is the returned matrix
    k = int(np.argmin(r.history["val_error"]))
    # (the problem's metrics read float32 ratings: agreement to float32 precision)
    assert r.metrics["rmse"] == pytest.approx(r.history["rmse"][k], rel=1e-6)
    assert r.metrics["val_error"] == pytest.approx(r.history["val_error"][k], rel=1e-6)
    # a grid needs a validation set to choose from
    plain = RatingsProblem(p.train, p.test)
    with pytest.raises(ConfigError, match="needs a validation set"):
        solve(plain, "biased_mf", ranks=[1, 3], lams=[1.0])
    with pytest.raises(ConfigError, match="ranks"):
        solve(p, "biased_mf", ranks=[0])


def test_bias_model_kind_picks_its_lambda_on_validation():
    p, _ = biased_low_rank(noise=0.3)
    r = solve(p, "bias_model", lams=[0.5, 500.0])
    assert r.metrics["chosen_lam"] == 0.5
    assert "bias_model" in BASELINES


# ---------------------------------------------------------------------------- surprise


@needs_surprise
def test_surprise_adapter_matches_the_librarys_own_predictions():
    import surprise

    from algoreg.baselines.recommender import surprise_predictions

    p, _ = biased_low_rank(m=30, n=40, noise=0.2, frac=0.5)
    tr = p.train
    raw = [
        (int(u), int(i), float(v), None)
        for u, i, v in zip(tr.users, tr.items, tr.values, strict=True)
    ]
    trainset = surprise.Dataset(surprise.Reader(rating_scale=(-10, 20))).construct_trainset(raw)
    for algo in (
        surprise.SVD(random_state=0, n_epochs=5),
        surprise.SVDpp(random_state=0, n_epochs=3),
    ):
        algo.fit(trainset)
        dense = surprise_predictions(algo, trainset, p.shape)
        for u, i in zip(p.test.users[:50], p.test.items[:50], strict=True):
            assert dense[u, i] == pytest.approx(algo.predict(int(u), int(i), clip=False).est)
    r = solve(p, "surprise", algorithm="svd", n_epochs=5)
    assert np.isfinite(r.metrics["rmse"]) and np.isfinite(r.metrics["val_error"])


def test_surprise_absent_is_a_clear_error(monkeypatch):
    p, _ = biased_low_rank(m=10, n=12)
    monkeypatch.setitem(sys.modules, "surprise", None)  # import surprise → ImportError
    with pytest.raises(ConfigError, match=r"algoreg\[surprise\]"):
        solve(p, "surprise", algorithm="svd")
    assert "pip install" in SURPRISE_MISSING
    with pytest.raises(ConfigError, match="algorithm"):
        solve(p, "surprise", algorithm="svd+++")


# -------------------------------------------------------------------------- SoftImpute


def test_randomized_soft_impute_agrees_with_the_full_svd():
    from algoreg import problems

    c = problems.completion((60, 80), 3, 2400, seed=0)
    lam = 0.05 * lambda_max(c)
    kw = {"lam": lam, "n_lams": 4, "tol": 1e-9, "max_iters": 3000}
    full = solve(c, "soft_impute", svd="full", **kw)
    fast = solve(c, "soft_impute", svd="randomized", **kw)
    assert fast.config["svd"] == "randomized" and full.config["svd"] == "full"
    rel = np.linalg.norm(fast.matrix - full.matrix) / np.linalg.norm(full.matrix)
    assert rel < 1e-5
    capped = solve(c, "soft_impute", svd="randomized", max_rank=2, **kw)
    assert np.linalg.matrix_rank(capped.matrix, tol=1e-8) == 2


def test_soft_impute_warns_before_a_long_solve_and_prints_progress(monkeypatch, capsys):
    import importlib

    si = importlib.import_module("algoreg.baselines.soft_impute")  # the module, not the function

    c = CompletionProblem(None, np.ones((8, 9), bool), np.arange(72.0).reshape(8, 9))
    monkeypatch.setattr(si, "SLOW_WARNING_S", 0.0)
    monkeypatch.setattr(si, "SLOW_ITERATION_S", 0.0)
    with pytest.warns(SlowWarning, match=r"up to 200 iterations .* may take"):
        si.soft_impute(c, n_lams=2, max_iters=100, tol=1e-3, verbose=True)
    out = capsys.readouterr().out
    assert out.count("soft_impute: lam") == 2 and "rank" in out


def test_soft_impute_path_chooses_lambda_on_validation():
    from algoreg.metrics.dynamics import early_stopping_metrics

    p, _ = biased_low_rank(noise=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = solve(p, "soft_impute", lam=0.5, n_lams=6, max_iters=200, tol=1e-5)
    h = r.history
    assert len(h["val_error"]) == 6 and len(h["rmse_clipped"]) == 6
    es = early_stopping_metrics(h, r.metrics, r.steps)
    k = int(np.argmin(h["val_error"]))
    assert es["es_lam"] == h["lam"][k] and es["es_rmse"] == h["rmse"][k]


def test_soft_impute_completer_default_iterations_depend_on_size():
    from algoreg.estimators import SoftImputeCompleter

    rng = np.random.default_rng(0)
    X = rng.standard_normal((310, 4)) @ rng.standard_normal((4, 320))
    X[rng.random(X.shape) < 0.5] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = SoftImputeCompleter(n_lams=2).fit(X)
    assert est.result_.config["max_iters"] == SoftImputeCompleter.LARGE_MAX_ITERS
    assert est.result_.config["svd"] == "randomized"
    small = SoftImputeCompleter(n_lams=2).fit(X[:40, :50])
    assert small.result_.config["max_iters"] == 5000 and small.result_.config["svd"] == "full"


# ----------------------------------------------------------------------------- report


def test_report_pools_replicate_columns_like_seeds():
    from algoreg.report.analysis import build_report

    rows = []
    for fold, (val_a, val_b, test_a, test_b) in {
        "u1": (0.90, 0.95, 0.93, 0.99), "u2": (0.92, 0.91, 0.95, 0.90),
    }.items():  # fmt: skip
        for lr, val, test in ((0.1, val_a, test_a), (0.2, val_b, test_b)):
            rows.append(
                {"trial_id": f"{fold}{lr}", "status": "max_steps", "method": "m",
                 "method_family": "m", "problem.split": fold, "problem.validation": 0.1,
                 "optimizer.learning_rate": lr, "val_error": val, "test_error": test}
            )  # fmt: skip
    meta = {"report": {"x": "problem.split", "replicates": ["problem.split"]}}
    report = build_report("s", meta, rows, history=lambda _: {})
    (row,) = report.table  # one row: the folds are pooled
    assert row["optimizer.learning_rate"] == 0.1  # mean validation 0.91 against 0.93
    assert row["test_error_mean"] == pytest.approx(0.94)
    assert row["test_error_sd"] == pytest.approx(0.01)
    assert row["n"] == 2
    assert "problem.split (u1, u2)" in report.note
    from algoreg.report.interactive import figure_spec

    meta["report"]["x"] = "problem.validation"  # one x value: a dot chart of the pooled folds
    layout = figure_spec(build_report("s", meta, rows, history=lambda _: {}), {})["layout"]
    assert layout["xaxis"]["title"]["text"] == "test_error (mean ± sd over problem.split and seeds)"


# ----------------------------------------------------------------------------- preset


@needs_ml100k
@pytest.mark.slow
def test_movielens_preset_quick_form_runs(tmp_path):
    """The quick form of the preset (u1, 6 rows) end to end: about a minute on two cores."""
    from algoreg.cli import main

    out = tmp_path / "run"
    code = main(
        ["reproduce", "movielens100k", "--quick", "--data", str(ml100k_path()), "--out",
         str(out), "--jobs", "1", "--no-progress"]
    )  # fmt: skip
    assert code == 0
    text = (out / "summary.csv").read_text()
    assert "biased MF (ALS)" in text and "bias model" in text


@pytest.mark.parametrize("kind", ["bias_model", "biased_mf", "surprise"])
def test_every_ratings_baseline_fills_the_result_and_refuses_other_problems(kind):
    from algoreg import problems
    from algoreg.baselines import RATINGS_ONLY

    assert kind in RATINGS_ONLY
    if kind == "surprise" and not surprise_available():
        pytest.skip("scikit-surprise absent")
    p, _ = biased_low_rank(m=30, n=40, noise=0.2)
    params = {"biased_mf": {"ranks": [3], "lams": [1.0]}, "surprise": {"n_epochs": 5}}
    r = solve(p, kind, **params.get(kind, {}))
    assert r.matrix.shape == p.shape and r.matrix.dtype == np.float64
    assert r.config["kind"] == kind and r.wall_time > 0
    # metrics are the problem's own, of the returned matrix
    assert r.metrics["rmse"] == pytest.approx(p.evaluate(r.matrix)["rmse"], rel=1e-5)
    assert r.metrics["rmse_clipped"] <= r.metrics["rmse"] + 1e-12
    assert np.isfinite(r.metrics["val_error"])
    with pytest.raises(ConfigError, match="needs a ratings problem"):
        solve(problems.completion((10, 10), 2, 60, seed=0), kind, **params.get(kind, {}))


def test_nuclear_norm_completer_picks_a_solver_that_finishes(monkeypatch):
    from algoreg.estimators import NuclearNormCompleter, completers

    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 3)) @ rng.standard_normal((3, 30))
    X[rng.random(X.shape) < 0.3] = np.nan
    # above the size limit "auto" solves the penalized problem by SoftImpute: the same
    # objective ½Σ(Z − X)² + λ‖Z‖_* as cvxpy's exact solve, so the same minimizer
    monkeypatch.setattr(completers, "CVXPY_MAX_ENTRIES", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = NuclearNormCompleter(lam=0.5).fit(X).result_
    assert fast.config["kind"] == "soft_impute"
    pytest.importorskip("cvxpy")
    exact = NuclearNormCompleter(lam=0.5, solver="cvxpy").fit(X).result_
    assert exact.config["kind"] == "nuclear_norm"
    rel = np.linalg.norm(fast.matrix - exact.matrix) / np.linalg.norm(exact.matrix)
    assert rel < 1e-3
    with pytest.raises(ConfigError, match=r"delta > 0 .* needs solver='cvxpy'"):
        NuclearNormCompleter(delta=0.1, solver="soft_impute").fit(X)
    with pytest.raises(ConfigError, match="solver"):
        NuclearNormCompleter(solver="scs").fit(X)


def test_deep_factorization_completer_defaults_shrink_for_large_matrices(monkeypatch):
    from algoreg.estimators import DeepFactorizationCompleter, completers

    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 2)) @ rng.standard_normal((2, 14))
    X[rng.random(X.shape) < 0.3] = np.nan
    monkeypatch.setattr(completers, "FULL_SVD_MAX", 10)  # 12×14 counts as large
    monkeypatch.setattr(DeepFactorizationCompleter, "LARGE_MAX_STEPS", 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = DeepFactorizationCompleter(depth=2, log_every=10).fit(X)
    assert est.result_.steps == 30
    assert [f.shape for f in est.result_.factors] == [(64, 14), (12, 64)]
    monkeypatch.setattr(completers, "SLOW_FIT_S", 0.0)
    with pytest.warns(SlowWarning, match=r"30 steps, width 64.*may take"):
        DeepFactorizationCompleter(depth=2, log_every=10).fit(X)
