"""Baselines: closed forms, cross-checks between independent solvers, recovery, errors."""

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import algoreg as ar
from algoreg import baselines as bl
from algoreg.errors import ConfigError, ConvergenceWarning

cp = pytest.importorskip("cvxpy")

TIGHT = {"eps_abs": 1e-8, "eps_rel": 1e-8}


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def easy(seed=0):
    """30×30 rank 2 with 700 of 900 entries observed: above the nuclear-norm phase transition."""
    return ar.problems.completion((30, 30), 2, 700, seed=seed)


EASY_PARAMS = {
    "nuclear_norm": ({}, 1e-5),
    "soft_impute": ({"lam": 1e-3}, 1e-3),
    "svt": ({"tol": 1e-7}, 1e-5),
    "hard_impute": ({"rank": 2}, 1e-5),
}


@pytest.mark.parametrize("kind", sorted(set(bl.BASELINES) - set(bl.RATINGS_ONLY)))
def test_every_baseline_recovers_an_easy_instance_and_fills_the_result(kind):
    # (the ratings-only baselines have their contract in tests/test_recommender.py)
    assert set(EASY_PARAMS) == set(bl.BASELINES) - set(bl.RATINGS_ONLY)
    p = easy()
    params, bound = EASY_PARAMS[kind]
    r = bl.solve(p, kind, **params)
    assert isinstance(r, ar.FitResult)
    assert r.status == "converged" and r.converged and r.steps >= 1
    assert r.test_error < bound
    assert r.effective_rank == pytest.approx(float(ar.metrics.effective_rank(p.truth)), rel=1e-3)
    assert r.metrics["numerical_rank"] == 2 or kind in ("nuclear_norm", "svt")
    assert r.factors[0] is r.matrix and r.matrix.dtype == np.float64
    assert r.config["kind"] == kind and r.wall_time > 0 and r.seed == 0
    assert all(isinstance(v, np.ndarray) for v in r.history.values())
    # metrics come from the problem itself (float64)
    assert r.metrics["train_loss"] == pytest.approx(np.mean((r.matrix - p.truth)[p.mask] ** 2))


def test_solve_rejects_unknown_kinds_and_parameters():
    p = easy()
    with pytest.raises(ConfigError, match="Did you mean 'soft_impute'"):
        bl.solve(p, "soft_inpute")
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['rnak'\]"):
        bl.solve(p, "hard_impute", rnak=2)
    with pytest.raises(ConfigError, match="requires parameter"):
        bl.solve(p, "hard_impute")
    with pytest.raises(ConfigError, match="lam must be > 0"):
        bl.solve(p, "soft_impute", lam=-1.0)
    with pytest.raises(ConfigError, match="rank must be <= 30"):
        bl.solve(p, "hard_impute", rank=31)
    with pytest.raises(ConfigError, match="not both"):
        bl.nuclear_norm(p, lam=1.0, delta=1e-3)
    with pytest.raises(ConfigError, match="needs an algoreg problem"):
        bl.soft_impute(np.zeros((3, 3)))
    sensing = ar.problems.sensing((6, 6), 1, 20)
    for kind in ("soft_impute", "hard_impute"):
        with pytest.raises(ConfigError, match="supports completion problems only, got a sensing"):
            bl.solve(sensing, kind, **({"rank": 1} if kind == "hard_impute" else {}))


def test_soft_impute_on_a_fully_observed_matrix_is_singular_value_soft_thresholding():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((12, 9))
    p = ar.problems.CompletionProblem(None, np.ones_like(M, bool), M)
    lam = 1.5
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    closed = (U * np.maximum(s - lam, 0)) @ Vt  # prox of λ‖·‖_* at M
    si = bl.soft_impute(p, lam=lam, tol=1e-12)
    np.testing.assert_allclose(si.matrix, closed, atol=1e-12)
    nn = bl.nuclear_norm(p, lam=lam, **TIGHT)
    np.testing.assert_allclose(nn.matrix, closed, atol=1e-6)
    # at λ ≥ λ_max = σ_1(P_Ω(M)) the solution is exactly zero
    assert np.all(bl.soft_impute(p, lam=s[0] * 1.01).matrix == 0)


@pytest.mark.parametrize("lam", [1.0, 0.1])
def test_soft_impute_agrees_with_cvxpy_on_the_penalized_form(lam):
    # noisy and under-sampled: the solution is neither the truth nor low-rank by luck
    p = ar.problems.completion((30, 30), 2, 400, noise=0.1, seed=0)
    si = bl.soft_impute(p, lam=lam, tol=1e-10, max_iters=20_000)
    nn = bl.nuclear_norm(p, lam=lam, **TIGHT)
    assert si.status == nn.status == "converged"
    assert rel(si.matrix, nn.matrix) < 1e-6
    assert si.metrics["objective"] == pytest.approx(nn.metrics["objective"], rel=1e-7)
    assert si.test_error > 1e-2  # the cross-check is not between two copies of the truth


def test_soft_impute_with_vanishing_lambda_approaches_the_equality_solution():
    p = ar.problems.completion((30, 30), 2, 700, noise=0.01, seed=0)
    nn = bl.nuclear_norm(p, **TIGHT)  # interpolates the noisy entries: not the truth
    assert np.abs(nn.matrix - p.observed)[p.mask].max() < 1e-5
    assert "nuclear_gap" not in nn.metrics  # the truth is not feasible: no gap to report
    lmax = bl.lambda_max(p)
    gaps = [
        rel(bl.soft_impute(p, lam=f * lmax, tol=1e-9, max_iters=20_000).matrix, nn.matrix)
        for f in (1e-3, 1e-4)
    ]
    assert gaps[1] < 1e-3 and gaps[1] < gaps[0] / 5


def test_svt_agrees_with_cvxpy_on_its_own_objective():
    # SVT solves min τ‖X‖_* + ½‖X‖_F² s.t. P_Ω(X) = P_Ω(M); a moderate τ keeps it away from
    # the truth, so this compares two solvers of one problem, not two recoveries
    p = ar.problems.completion((30, 30), 2, 600, seed=0)
    tau = 30.0
    s = bl.svt(p, tau=tau, tol=1e-8, max_iters=20_000)
    rows, cols = np.nonzero(p.mask)
    X = cp.Variable(p.shape)
    obj = cp.Minimize(tau * cp.normNuc(X) + 0.5 * cp.sum_squares(X))
    prob = cp.Problem(obj, [X[rows, cols] == p.observed[rows, cols]])
    prob.solve(solver=cp.SCS, eps_abs=1e-9, eps_rel=1e-9)
    assert prob.status == "optimal" and s.converged
    assert rel(s.matrix, X.value) < 1e-6
    assert s.test_error > 1e-2
    assert s.history["residual"][-1] <= 1e-8


def test_nuclear_norm_exact_above_and_fails_below_the_phase_transition():
    exact = bl.nuclear_norm(easy())
    assert exact.test_error < 1e-5
    assert exact.metrics["nuclear_norm"] == pytest.approx(np.linalg.norm(easy().truth, "nuc"))
    assert abs(exact.metrics["nuclear_gap"]) < 1e-6
    below = bl.nuclear_norm(ar.problems.completion((30, 30), 2, 200, seed=0))
    assert below.test_error > 0.2
    # the minimizer beats the truth on nuclear norm: failure is the convex program's, not SCS's
    truth_norm = np.linalg.norm(below_truth(), "nuc")
    assert below.metrics["nuclear_norm"] < truth_norm
    gap = (below.metrics["nuclear_norm"] - truth_norm) / truth_norm
    assert below.metrics["nuclear_gap"] == pytest.approx(gap, rel=1e-9) and gap < -1e-3


def below_truth():
    return ar.problems.completion((30, 30), 2, 200, seed=0).truth


def test_nuclear_norm_tolerance_form_respects_delta_and_relaxes_the_equality_form():
    p = ar.problems.completion((20, 20), 2, 250, seed=1)
    eq = bl.nuclear_norm(p)
    tol = bl.nuclear_norm(p, delta=1e-3)
    assert tol.config["form"] == "tolerance"
    gap = np.abs(tol.matrix - p.observed)[p.mask].max()
    assert gap <= 1e-3 + 2e-5  # δ, up to SCS's feasibility tolerance
    assert gap > 9e-4  # the constraint is active: the solution uses its slack
    # a larger feasible set: strictly smaller nuclear norm than the equality solution
    assert tol.metrics["nuclear_norm"] < eq.metrics["nuclear_norm"] - 1e-3
    assert eq.test_error == pytest.approx(tol.test_error, abs=0.01)


def test_sensing_nuclear_norm_and_svt():
    p = ar.problems.sensing((15, 15), 1, 120, seed=0)
    nn = bl.nuclear_norm(p)
    assert nn.test_error < 1e-5
    svt = bl.svt(p, tol=1e-7, max_iters=5000)
    assert svt.converged and svt.test_error < 1e-4
    pen = bl.nuclear_norm(p, lam=1e-2)
    assert pen.config["form"] == "penalized" and 0 < pen.test_error < 1e-2
    assert abs(nn.metrics["nuclear_gap"]) < 1e-6 and "nuclear_gap" not in pen.metrics
    few = bl.nuclear_norm(ar.problems.sensing((20, 20), 2, 80, seed=0))
    assert few.test_error > 0.3  # 80 measurements < 2·r·(2n − r) = 152 degrees of freedom
    assert few.metrics["nuclear_gap"] < -1e-2  # a smaller nuclear norm than the truth's


def test_hard_impute_recovers_an_exact_rank_r_matrix():
    p = ar.problems.completion((40, 40), 3, 700, seed=2)
    r = bl.hard_impute(p, rank=3)
    assert r.converged and r.test_error < 1e-5
    assert np.linalg.matrix_rank(r.matrix, tol=1e-8 * np.linalg.norm(r.matrix, 2)) == 3
    assert r.history["objective"][-1] < 1e-8 * r.history["objective"][0]


def test_iteration_limits_warn_with_the_count_and_report_max_steps():
    p = easy()
    for kind, params in [
        ("soft_impute", {"lam": 0.1, "max_iters": 3, "n_lams": 1}),
        ("svt", {"max_iters": 4}),
        ("hard_impute", {"rank": 2, "max_iters": 5}),
    ]:
        with pytest.warns(ConvergenceWarning, match=f"after {params['max_iters']} iterations"):
            r = bl.solve(p, kind, **params)
        assert r.status == "max_steps"


def test_solver_failure_raises_solver_error_with_name_and_status():
    p = easy()
    with pytest.raises(bl.SolverError, match=r"SCS.*optimal_inaccurate") as info:
        bl.nuclear_norm(p, max_iters=5)
    assert info.value.solver == "SCS" and info.value.status == "optimal_inaccurate"
    assert isinstance(info.value, RuntimeError)
    with pytest.warns(ConvergenceWarning, match="after 5 iterations"):
        r = bl.nuclear_norm(p, max_iters=5, accept_inaccurate=True)
    assert r.status == "max_steps" and r.steps == 5


def test_soft_impute_path_is_warm_started_and_decreasing():
    p = easy()
    r = bl.soft_impute(p, lam=1e-2, n_lams=6)
    lams = r.history["lam"]
    assert len(lams) == 6 and np.all(np.diff(lams) < 0) and lams[-1] == pytest.approx(1e-2)
    assert lams[0] < bl.lambda_max(p)
    assert r.steps == r.history["step"][-1] == r.history["iters"].sum()
    assert r.history["test_error"][-1] < r.history["test_error"][0]
    assert r.history["rank"][0] <= r.history["rank"][-1]


def test_importing_algoreg_and_baselines_does_not_import_cvxpy_or_sklearn():
    code = (
        "import sys, algoreg, algoreg.baselines; "
        "print(sorted(m for m in ('cvxpy', 'sklearn', 'scs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("n_obs", "exact"), [(5000, True), (2000, False)])
def test_paper_scale_nuclear_norm_phase_transition(n_obs, exact, seed):
    # Arora et al.'s setting: 100×100, rank 5, ‖W*‖_F = 100
    p = ar.problems.completion((100, 100), 5, n_obs, seed=seed)
    r = bl.nuclear_norm(p)
    print(
        f"nuclear_norm n_obs={n_obs} seed={seed}: test_error={r.test_error:.3g} "
        f"mse={r.metrics['mse']:.3g} wall={r.wall_time:.1f}s"
    )
    if exact:
        assert r.test_error < 1e-3
    else:
        assert r.test_error > 0.1


@pytest.mark.slow
def test_paper_scale_soft_impute_small_lambda_agrees_with_the_exact_solver():
    p = ar.problems.completion((100, 100), 5, 5000, seed=0)
    nn = bl.nuclear_norm(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        si = bl.soft_impute(p, lam=1e-5 * bl.lambda_max(p), tol=1e-9, max_iters=20_000)
    print(f"soft_impute vs nuclear_norm: rel diff {rel(si.matrix, nn.matrix):.3g}")
    assert rel(si.matrix, nn.matrix) < 1e-4


def test_every_baseline_checks_its_settings_at_study_load():
    """A bad setting of a baseline fails when the study loads, naming the key, not inside
    every trial after the run started."""
    assert set(bl.CHECKS) == set(bl.BASELINES)
    base = 'name = "x"\n[problem]\nshape = [6, 6]\nrank = 1\nn_obs = 20\n[model]\n'
    for model, said in [
        ('kind = "soft_impute"\nlam = -5.0', "model.lam: lam must be > 0.0"),
        ('kind = "soft_impute"\nn_lams = 0', "model.n_lams: n_lams must be >= 1"),
        ('kind = "svt"\ntau = -1.0', "model.tau: tau must be > 0.0"),
        ('kind = "nuclear_norm"\ndelta = "abc"', "model.delta: delta must be a real number"),
        ('kind = "nuclear_norm"\nlam = 0.1\ndelta = 0.5', "give either lam"),
        ('kind = "hard_impute"', "baseline 'hard_impute' requires rank"),
        ('kind = "hard_impute"\nrank = 0', "model.rank: rank must be >= 1"),
    ]:
        with pytest.raises(ar.ConfigError, match=re.escape(said)):
            ar.studies.load_study(text=base + model + "\n")
    ok = ar.studies.load_study(text=base + 'kind = "soft_impute"\nlam = 0.5\n')
    assert ar.studies.expand(ok)[0].config["model"]["lam"] == 0.5
