"""The network experiments as studies: what their quick forms show (with margins, on the
tables the report chooses from validation data only), and that a network preset's store
resumes without repeating a trial."""

import pytest

import algoreg as ar
from algoreg.report import load_report
from algoreg.studies import load_study, preset_path


def table(quick_preset, name):
    directory, code, out = quick_preset(name)
    assert code == 0
    with load_report(directory) as report:
        return {r["method_family"]: r for r in report.table}, report, out


def test_deephoyer_quick_hoyer_square_prunes_far_below_dense_at_matched_accuracy(quick_preset):
    rows, report, out = table(quick_preset, "deephoyer-digits")
    dense, hs, l1 = rows["dense"], rows["hoyer_square"], rows["l1"]
    for chosen in (hs, l1):  # chosen on validation: within 1 point of dense
        assert chosen["val_acc_mean"] >= dense["val_acc_mean"] - 0.01
        assert chosen["model.sensitivity"] > 0  # a pruned model, not the unpruned one
    assert hs["nnz_mean"] < 0.2 * dense["nnz_mean"]  # quick run: ≈ 0.07
    assert l1["nnz_mean"] < 0.2 * dense["nnz_mean"]
    # the penalties prune further than magnitude pruning of the dense model alone (≈ 0.23×)
    assert hs["nnz_mean"] < 0.5 * rows["magnitude pruning"]["nnz_mean"]
    assert out.count("\ncheck: ") == len(report.checks) == 4


def test_lowrank_quick_ratio_with_adam_lowers_effective_rank_and_sgd_barely(quick_preset):
    rows, _, _ = table(quick_preset, "lowrank-digits")
    # per (optimizer, penalty) λ chosen within 1 point of that optimizer's unregularized model
    for label in ("adam ratio", "adam nuclear", "gd ratio", "gd nuclear"):
        ref = rows[label.split()[0] + " none"]
        assert rows[label]["val_acc_mean"] >= ref["val_acc_mean"] - 0.01
    assert rows["adam ratio"]["erank_mean"] < 0.8 * rows["adam none"]["erank_mean"]  # ≈ 0.6
    assert rows["gd ratio"]["erank_mean"] > 0.9 * rows["gd none"]["erank_mean"]  # ≈ 0.96
    assert rows["adam nuclear"]["compression_mean"] > 2.0  # ≈ 2.8; none: 1


def test_linear_quick_every_penalty_recovers_w_star_better_than_none(quick_preset):
    rows, report, _ = table(quick_preset, "linear-endtoend")
    none = rows["none"]["rel_err_mean"]  # ≈ 0.58
    assert rows["ratio on product"]["rel_err_mean"] < 0.7 * none  # ≈ 0.25
    assert rows["nuclear on product"]["rel_err_mean"] < 0.8 * none  # ≈ 0.34
    assert rows["ratio per factor"]["rel_err_mean"] < 0.7 * none
    # λ chosen by validation MSE: the chosen λ has the lowest mean val_mse of its family
    chosen = rows["ratio on product"]
    mine = [r for r in report.rows if r["method_family"] == "ratio on product"]
    assert chosen["val_mse_mean"] == min(r["val_mse"] for r in mine)


def test_report_pages_the_network_presets_in_order(quick_preset, tmp_path):
    dirs = [quick_preset(n)[0] for n in ("linear-endtoend", "deephoyer-digits")]
    page = ar.report.write_results(dirs, tmp_path / "results.md").read_text()
    assert 0 < page.index("## deephoyer-digits") < page.index("## linear-endtoend")
    assert "**Paper says:** Yang, Wen & Li" in page and "per row, the setting of" in page
    assert "| [deephoyer-digits](#deephoyer-digits) |" in page  # checks in the overview


def test_a_network_preset_resumes_without_repeating_a_trial(tmp_path):
    study = load_study(preset_path("linear-endtoend"), quick=True, overrides=["model.steps=20"])
    seen = []

    def stop_after_four(record):
        seen.append(record["trial_id"])
        if len(seen) == 4:
            raise KeyboardInterrupt  # as a kill between two trials leaves the store

    first = ar.studies.run_study(study, tmp_path, jobs=1, progress=False, on_record=stop_after_four)
    assert first.interrupted and first.ran == 4
    with ar.studies.Store(tmp_path) as store:
        kept = {t["trial_id"]: t["finished_at"] for t in store.trials()}
    assert set(kept) == set(seen)
    seen.clear()
    again = ar.studies.run_study(
        study, tmp_path, jobs=1, progress=False, on_record=lambda r: seen.append(r["trial_id"])
    )
    assert again.skipped == 4 and again.ran == study.size() - 4 and not set(seen) & set(kept)
    with ar.studies.Store(tmp_path) as store:
        trials = store.trials()
    assert len(trials) == study.size()
    assert all(t["finished_at"] == kept[t["trial_id"]] for t in trials if t["trial_id"] in kept)


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("minimize", "test_acc", "test_acc' is a test metric"),
        ("constraint", "trunc_test_acc", "is a test metric"),
        ("at_least", "x", "at_least must be a finite number"),
        ("budget", 3, "unknown key 'budget'"),
    ],
)
def test_a_selection_never_reads_test_metrics_and_names_bad_keys(key, value, said):
    text = preset_path("deephoyer-digits").read_text()
    if key == "minimize":
        text = text.replace('minimize = "nnz"', f'minimize = "{value}"')
    elif key == "constraint":
        text = text.replace('constraint = "val_acc"', f'constraint = "{value}"')
    elif key == "at_least":
        text = text.replace("at_least = -0.01\nreference", 'at_least = "x"\nreference')
    else:
        text = text.replace("[report.select]\n", "[report.select]\nbudget = 3\n")
    with pytest.raises(ar.studies.StudyError, match=r"report\.select: ") as err:
        load_study(text=text)
    assert said in str(err.value)
