import math

import pytest

from algoreg.report import format_rows, select_best, summarize
from algoreg.report.checks import evaluate


def rows():
    out = []
    for lam, val, test in ((0.1, 0.5, 0.4), (0.01, 0.2, 0.3), (0.001, 0.3, 0.05)):
        for seed, jitter in ((0, -0.01), (1, 0.01)):
            out.append(
                {
                    "method_family": "d1 adam + ratio",
                    "problem.n_obs": 2000,
                    "penalty.lam": lam,
                    "seed": seed,
                    "val_error": val + jitter,
                    "test_error": test + jitter,
                    "status": "max_steps",
                }
            )
    return out


def test_summarize_mean_sd_and_missing():
    r = [*rows(), {"method_family": "x", "problem.n_obs": 1, "test_error": math.nan}]
    s = {
        (g["method_family"], g["problem.n_obs"]): g
        for g in summarize(r, ["method_family", "problem.n_obs"], "test_error")
    }
    g = s[("d1 adam + ratio", 2000)]
    assert g["n"] == 6 and g["test_error_mean"] == pytest.approx((0.4 + 0.3 + 0.05) / 3)
    assert s[("x", 1)]["n"] == 0 and s[("x", 1)]["n_missing"] == 1


def test_select_best_uses_the_validation_metric_not_the_test_metric():
    (best,) = select_best(rows(), ["method_family", "problem.n_obs"])
    assert best["penalty.lam"] == 0.01  # lowest val_error, although λ = 0.001 tests better
    assert best["test_error_mean"] == pytest.approx(0.3)
    assert best["test_error_sd"] == pytest.approx(0.01)


def test_diverged_and_failed_trials_are_left_out_of_summaries_and_say_so():
    """A diverged trial's last finite iterate is often its initialization (test error ≈ 1):
    averaged in, it made a page call a run that diverged at step 2 the best method."""
    r = [
        {"method": "a", "test_error": 0.1, "status": "converged"},
        {"method": "a", "test_error": 0.3, "status": "max_steps"},
        {"method": "a", "test_error": 1.0, "status": "diverged"},
        {"method": "a", "test_error": math.nan, "status": "failed"},
        {"method": "a", "test_error": math.nan, "status": "converged"},
        {"method": "b", "test_error": 1e-3, "status": "diverged"},
    ]
    s = {g["method"]: g for g in summarize(r, ["method"], "test_error")}
    assert s["a"]["test_error_mean"] == pytest.approx(0.2) and s["a"]["n"] == 2
    assert s["a"]["n_missing"] == 3
    assert s["a"]["left_out"] == "1 diverged, 1 failed, 1 no value"
    assert math.isnan(s["b"]["test_error_mean"]) and s["b"]["left_out"] == "1 diverged"


def test_select_best_never_picks_a_setting_that_diverged_on_some_seed():
    r = rows()
    for row in r:  # λ = 0.01 has the lowest validation error, but one of its seeds diverged
        if row["penalty.lam"] == 0.01 and row["seed"] == 1:
            row.update(status="diverged", val_error=0.0)
    (best,) = select_best(r, ["method_family", "problem.n_obs"])
    assert best["penalty.lam"] == 0.001 and best["left_out"] == ""
    r = [row for row in r if row["penalty.lam"] == 0.01]  # the only setting left
    (best,) = select_best(r, ["method_family", "problem.n_obs"])
    assert best["val_error_mean"] == pytest.approx(0.19) and best["left_out"] == "1 diverged"


def test_format_rows_csv_and_table():
    text = format_rows([{"a": 1, "b": 0.123456}], "table")
    assert text.splitlines()[1].split() == ["1", "0.1235"]
    assert format_rows([{"a": 1, "b": 2}], "csv").splitlines() == ["a,b", "1,2"]


def test_method_label_names_an_approximate_penalty_gradient():
    from algoreg.report.table import method_label

    def config(**penalty):
        return {
            "model": {"kind": "factorization", "depth": 1},
            "optimizer": {"kind": "adam"},
            "penalty": {"kind": "ratio", "lam": 1e-3, **penalty},
        }

    assert method_label(config()) == "depth 1 adam + ratio λ=0.001"
    assert method_label(config(method="svd", refresh_every=1), with_lam=False) == (
        "depth 1 adam + ratio"
    )
    assert method_label(config(method="subspace", rank=32)).endswith("(subspace r32)")
    assert method_label(config(method="gram"), with_lam=False) == "depth 1 adam + ratio (gram)"
    assert method_label(config(refresh_every=20)).endswith("λ=0.001 (SVD every 20)")


def _check_table():
    """Two methods at two x values, as a report table (means of test_error and mse)."""
    return [
        {"method": "deep", "problem.n_obs": 2000, "test_error_mean": 0.01, "mse_mean": 1e-4},
        {"method": "convex", "problem.n_obs": 2000, "test_error_mean": 0.5, "mse_mean": 0.05},
        {"method": "deep", "problem.n_obs": 5000, "test_error_mean": 0.002, "mse_mean": 1e-6},
        {"method": "convex", "problem.n_obs": 5000, "test_error_mean": 1e-6, "mse_mean": 1e-12},
    ]


SPEC = {"x": "problem.n_obs", "y": "test_error"}


def test_checks_compare_rows_with_a_reference_row_at_chosen_x():
    table = _check_table()
    at_2000 = {"says": "s", "rows": ["deep"], "than": "convex", "at_most": 0.1, "at": [2000]}
    result = evaluate(at_2000, table, "method", SPEC)
    assert result.verdict == "agrees"
    assert result.comparisons == ("deep 0.01 vs convex 0.5, ×0.02 at 2000 observations ✓",)
    everywhere = {k: v for k, v in at_2000.items() if k != "at"}  # deep loses at 5000
    assert evaluate(everywhere, table, "method", SPEC).verdict == "partly"
    at_5000 = {**at_2000, "at": [5000]}
    assert evaluate(at_5000, table, "method", SPEC).verdict == "disagrees"
    # at_least and at_most together: a band; metric other than the report's y
    band = {**at_2000, "at_least": 0.5, "at_most": 2.0, "metric": "mse"}
    assert evaluate(band, table, "method", SPEC).verdict == "disagrees"  # ×0.002 is outside


def test_checks_with_absolute_bounds_and_missing_rows():
    table = _check_table()
    recovered = {"says": "s", "rows": ["deep", "convex", "absent"], "at_most": 0.01, "at": [5000]}
    result = evaluate(recovered, table, "method", SPEC)
    assert result.verdict == "agrees" and len(result.comparisons) == 3
    assert result.comparisons[2] == "not measured: absent at 5000 observations"  # named
    grows = {"says": "s", "rows": ["deep"], "at_least": 0.05}
    assert evaluate(grows, table, "method", SPEC).verdict == "disagrees"
    unknown = {"says": "s", "rows": ["absent"], "than": "convex", "at_most": 1.0}
    result = evaluate(unknown, table, "method", SPEC)
    assert result.verdict == "not measured"
    assert result.comparisons == ("no row labelled 'absent'; the table's rows: convex, deep",)
    assert evaluate(recovered, [], "method", SPEC).line() == "not measured: s"


def test_trend_checks_read_the_reference_at_another_x_and_numeric_labels_match():
    table = _check_table()
    shrinks = {"says": "s", "rows": ["deep"], "than_at": 2000, "at_most": 0.5, "at": [5000]}
    result = evaluate(shrinks, table, "method", SPEC)
    assert result.verdict == "agrees"
    assert result.comparisons == (
        "deep 0.002 vs deep at 2000 observations 0.01, ×0.2 at 5000 observations ✓",
    )
    against = {**shrinks, "than": "convex"}  # deep at 5000 vs convex at 2000: ×0.004
    assert evaluate(against, table, "method", SPEC).verdict == "agrees"
    grows = {**shrinks, "rows": ["convex"]}  # convex 1e-6 vs 0.5: shrinks too
    assert evaluate({**grows, "at_least": 1.0}, table, "method", SPEC).verdict == "disagrees"
    # a numeric group (the hue problem.n_obs, as in gunasekar2017) is named as printed
    by_n = [{**r, "n": r.pop("problem.n_obs")} for r in _check_table()]
    spec = {"x": "method", "y": "test_error"}
    named = {"says": "s", "rows": ["5000"], "than": "2000", "at_most": 0.5, "at": ["deep"]}
    assert evaluate(named, by_n, "n", spec).comparisons == (
        "5000 0.002 vs 2000 0.01, ×0.2 at method = deep ✓",
    )


def test_trial_time_sums_wall_times_in_readable_units():
    from algoreg.report import trial_time

    assert trial_time([{"wall_s": 30}, {"wall_s": 60.0}, {"wall_s": float("nan")}, {}]) == "90.0 s"
    assert trial_time([{"wall_s": 600}, {"wall_s": 30}]) == "10.5 min"
    assert trial_time([{"wall_s": 7199}]) == "120.0 min"
    assert trial_time([{"wall_s": 7200}, {"wall_s": 1800}]) == "2.5 h"
    assert trial_time([]) == "0.0 s"


def test_page_order_places_every_preset_once():
    from algoreg.report.markdown import PAGE_ORDER
    from algoreg.studies import PRESETS

    assert sorted(PAGE_ORDER) == sorted(PRESETS)


def test_load_report_closes_its_store_when_the_block_ends():
    """Deterministically, in this thread (a finalizer in another thread made SQLite raise)."""
    import sqlite3
    from pathlib import Path

    from algoreg.report import load_report

    archive = Path(__file__).resolve().parents[1] / "results" / "razin2020.jsonl.gz"
    with load_report(archive) as report:
        tid = report.rows[0]["trial_id"]
        assert len(report.history(tid)["step"]) > 1  # histories are read from the open store
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        report.history(tid)


def test_difference_checks_bound_the_change_not_the_ratio():
    from algoreg.report.checks import check_problem

    table = _check_table()
    # deep's test error falls by 0.008 from 2000 to 5000 observations: a change in [−0.01, 0]
    fall = {"says": "s", "rows": ["deep"], "than_at": 2000, "at": [5000], "compare": "difference",
            "at_least": -0.01, "at_most": 0.0}  # fmt: skip
    result = evaluate(fall, table, "method", SPEC)
    assert result.verdict == "agrees"
    assert result.comparisons == (
        "deep 0.002 vs deep at 2000 observations 0.01, -0.008 at 5000 observations ✓",
    )
    assert evaluate({**fall, "at_least": -0.005}, table, "method", SPEC).verdict == "disagrees"
    assert check_problem(fall) is None  # a difference bound may be ≤ 0
    assert "needs a reference" in check_problem({k: v for k, v in fall.items() if k != "than_at"})
    assert "compare must be one of" in check_problem({**fall, "compare": "sum"})


def test_a_check_can_read_at_in_another_column_than_the_reports_x():
    table = [{**r, "lr": 0.1 if r["problem.n_obs"] == 2000 else 0.2} for r in _check_table()]
    spec = {"x": "step", "y": "test_error"}  # a history plot: x is not a table column
    fast = {"says": "s", "rows": ["deep"], "x": "lr", "at": [0.2], "at_most": 0.005}
    result = evaluate(fast, table, "method", spec)
    assert result.verdict == "agrees"
    assert result.comparisons == ("deep 0.002 at lr = 0.2 ✓",)
    assert evaluate({**fast, "at": [0.1]}, table, "method", spec).verdict == "disagrees"


def test_a_check_keeps_only_the_rows_where_columns_have_given_values():
    table = [{**r, "lr": lr} for r in _check_table() for lr in (0.1, 0.2)]
    table = [{**r, "test_error_mean": r["test_error_mean"] * r["lr"] * 10} for r in table]
    slow = {"says": "s", "rows": ["deep"], "at": [2000], "at_most": 0.015}
    assert evaluate(slow, table, "method", SPEC).verdict == "agrees"  # the first row: lr 0.1
    where = {**slow, "where": {"lr": 0.2}}
    result = evaluate(where, table, "method", SPEC)
    assert result.verdict == "disagrees"
    assert result.comparisons == ("deep 0.02 at 2000 observations ✗",)


def test_a_users_by_is_kept_when_lambda_is_chosen_on_validation():
    """With a validation split the table picks the tuned setting per method family; the
    report's own ``by`` columns (here the problem kind) still split the rows."""
    from algoreg.report.analysis import build_report

    settings = [("matrix", 0.1, 0.2), ("matrix", 0.2, 0.1), ("completion", 0.1, 0.5),
                ("completion", 0.2, 0.6)]  # fmt: skip
    rows = [
        {"trial_id": f"{kind}{lr}", "status": "max_steps", "method": "m", "method_family": "m",
         "problem.kind": kind, "problem.validation": 0.1, "optimizer.learning_rate": lr,
         "val_error": val, "test_error": val + 0.1}
        for kind, lr, val in settings
    ]  # fmt: skip
    meta = {
        "name": "s",
        "report": {"plot": "history", "x": "step", "by": ["method", "problem.kind"]},
    }
    report = build_report("s", meta, rows, history=lambda _: {})
    chosen = {r["problem.kind"]: r["optimizer.learning_rate"] for r in report.table}
    assert chosen == {"matrix": 0.2, "completion": 0.1}  # the lower validation error in each


def test_a_check_naming_a_column_the_table_lacks_says_so():
    table = _check_table()
    typo = {"says": "s", "rows": ["deep"], "where": {"lr": 0.2}, "at_most": 1.0}
    result = evaluate(typo, table, "method", SPEC)
    assert result.verdict == "not measured"
    assert result.comparisons[0].startswith("no column 'lr' in the table")
    wrong_x = {"says": "s", "rows": ["deep"], "x": "learning_rate", "at_most": 1.0}
    assert "no column 'learning_rate'" in evaluate(wrong_x, table, "method", SPEC).comparisons[0]


def zhao_like_rows():
    """18 series: depth 1–3 × {GD-family, Adam} × {none, ratio, nuclear}, at three x."""
    rows = []
    for depth in (1, 2, 3):
        for opt in ("gd" if depth == 1 else "group_rmsprop", "adam"):
            for pen in ("none", "ratio", "nuclear"):
                for n_obs in (2000, 3000, 5000):
                    rows.append(
                        {
                            "method": f"depth {depth} {opt} + {pen}",
                            "model.depth": depth,
                            "optimizer.kind": opt,
                            "penalty.kind": pen,
                            "optimizer.b1": 0.9 if opt == "adam" else None,
                            "problem.n_obs": n_obs,
                            "test_error": 0.1 * depth,
                            "status": "max_steps",
                        }
                    )
    return rows


def test_series_looks_colour_per_penalty_marker_per_optimizer_same_across_panels():
    from algoreg.report.style import OKABE_ITO, choose_facet, series_looks

    rows = zhao_like_rows()
    facet = choose_facet(rows, "method", None, "problem.n_obs")
    assert facet == "model.depth"  # not Adam's b1 (unset for GD), not the x, not a kind
    looks = series_looks(rows, "method", facet)
    by_pen, by_opt = {}, {}
    for r in rows:
        look = looks[r["method"]]
        by_pen.setdefault(r["penalty.kind"], set()).add(look.color)
        by_opt.setdefault(r["optimizer.kind"], set()).add(look.marker)
    assert all(len(c) == 1 for c in by_pen.values()) and len(set().union(*by_pen.values())) == 3
    assert all(len(m) == 1 for m in by_opt.values()) and len(set().union(*by_opt.values())) == 3
    assert {k.color for k in looks.values()} <= set(OKABE_ITO)
    for depth in (1, 2, 3):  # within a panel no two series look alike
        panel = [looks[r["method"]] for r in rows if r["model.depth"] == depth]
        assert len(set(panel)) == 6


def test_no_facet_for_few_series_or_a_single_x():
    from algoreg.report.style import choose_facet

    rows = zhao_like_rows()
    assert choose_facet(rows[:18], "method", None, "problem.n_obs") is None  # 6 series
    single = [r for r in rows if r["problem.n_obs"] == 2000]
    assert choose_facet(single, "method", None, "problem.n_obs") is None  # a dot chart
    assert choose_facet(single, "method", "penalty.kind", "problem.n_obs") == "penalty.kind"


def test_summary_figures_facet_and_dot_chart(tmp_path):
    pytest.importorskip("matplotlib")
    from algoreg.report.plot import plot_summary

    rows = zhao_like_rows()
    facets = plot_summary(rows, tmp_path / "facets", hue="method")
    single = [r for r in rows if r["problem.n_obs"] == 2000]
    dots = plot_summary(single, tmp_path / "dots", hue="method")
    from PIL import Image

    wide, tall = Image.open(facets[0]).size, Image.open(dots[0]).size
    assert wide[0] > 2.5 * wide[1]  # three panels side by side, legend at the right
    assert tall[1] > 0.6 * tall[0]  # a row per series (18 of them)


def test_report_facet_must_name_a_column(tmp_path):
    from algoreg.errors import ConfigError
    from algoreg.report.analysis import build_report

    meta = {"report": {"facet": "model.dpth"}}
    with pytest.raises(ConfigError, match=r"facet = 'model.dpth'.*did you mean 'model.depth'"):
        build_report("x", meta, zhao_like_rows(), lambda _: {})


def test_the_measured_headline_picks_the_best_by_the_metrics_direction():
    from algoreg.report.analysis import _measured
    from algoreg.report.plot import higher_is_better

    assert higher_is_better("success") and higher_is_better("es_val_acc")
    assert not higher_is_better("test_error") and not higher_is_better("es_rmse")
    spec = {"x": "problem.n", "select": None, "plot": "summary"}
    table = [
        {"method": "a", "problem.n": 5, "success_mean": 0.2, "test_error_mean": 0.1},
        {"method": "b", "problem.n": 5, "success_mean": 0.9, "test_error_mean": 0.3},
    ]
    high = _measured(table, {**spec, "y": "success"}, "method")
    assert high == "highest mean success: at problem.n = 5 b (0.9)."
    low = _measured(table, {**spec, "y": "test_error"}, "method")
    assert low == "lowest mean test error: at problem.n = 5 a (0.1)."


def test_a_checks_ratio_keeps_the_digits_its_margins_need():
    from algoreg.report.checks import ratio_text

    assert ratio_text(1.004) == "1.004" and ratio_text(0.9971) == "0.997"
    assert ratio_text(1.0) == "1" and ratio_text(0.02) == "0.02" and ratio_text(25.04) == "25"
