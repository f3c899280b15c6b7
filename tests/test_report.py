import math

import pytest

from algoreg.report import format_rows, select_best, summarize


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
