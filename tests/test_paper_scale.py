"""Paper-scale checks (``python -m pytest -m slow``): minutes each on 2 cores."""

import numpy as np
import pytest

import algoreg as ar

pytestmark = pytest.mark.slow


def arora_problems(n_obs=2000, seeds=(0, 1, 2)):
    return [ar.problems.completion((100, 100), 5, n_obs, seed=s) for s in seeds]


def test_depth_three_group_rmsprop_recovers_where_depth_one_cannot():
    probs = arora_problems()
    deep = ar.fit_many(
        probs,
        ar.models.factorization(3, init_scale=1e-3),
        optimizer=ar.optim.group_rmsprop(1e-3),
        max_steps=100_000,
        tol=1e-6,
    )
    errors = np.array([r.test_error for r in deep])
    assert all(r.status == "converged" for r in deep)
    assert errors.mean() < 1e-2  # the reference code reaches ≈ 4e-3 in ≈ 29k steps
    shallow = ar.fit_many(
        probs,
        ar.models.factorization(1, init_scale=1e-3),
        optimizer=ar.optim.gd(500.0),
        max_steps=1000,
        tol=1e-6,
    )
    assert all(abs(r.test_error - 1) < 1e-3 for r in shallow)  # unobserved entries never move


def test_ratio_penalty_with_adam_reaches_low_error_at_depth_one():
    probs = arora_problems(seeds=(0, 1))
    rs = ar.fit_many(
        probs,
        ar.models.factorization(1, init_scale=1e-3),
        penalty=ar.penalties.ratio(1e-2),
        optimizer=ar.optim.adam(1e-3),
        max_steps=50_000,
    )
    assert np.mean([r.test_error for r in rs]) < 0.03
    assert all(4.5 < r.effective_rank < 5.5 for r in rs)


@pytest.mark.parametrize("name", ar.studies.PRESETS)
def test_every_quick_preset_runs_and_reports(name, quick_preset):
    """`algoreg reproduce NAME --quick` as a user runs it: every trial finishes (none failed),
    and it writes its table and figure and prints a verdict line for each claim check."""
    from algoreg.report import load_report

    extra = []
    if name == "movielens100k":
        from test_ratings import ml100k_path

        if not (ml100k_path() / "u.data").is_file():
            pytest.skip("MovieLens-100K not available")
        extra = ["--data", str(ml100k_path())]
    if name.startswith("weylandt2020"):
        from test_clustering_study import SHARED

        if not (SHARED / "blobs.csv").is_file():
            pytest.skip("shared clustering data absent")
        extra = ["--data", str(SHARED)]
    directory, code, out = quick_preset(name, *extra)
    assert code == 0
    with load_report(directory) as report:
        assert report.rows and len(report.rows) == report.planned
        assert not [r for r in report.rows if r["status"] == "failed"]
        rows = (directory / "summary.csv").read_text().count("\n")
        assert rows == len(report.table) + 1
    assert (directory / "figure.png").stat().st_size > 1000
    assert out.count("\ncheck: ") == len(report.checks)
