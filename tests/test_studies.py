import json
import os

import numpy as np
import pytest

import algoreg as ar
from algoreg.studies import StudyError, expand, load_study, make_batches
from algoreg.studies.grid import select

TINY = """
name = "tiny"
n_seeds = 2

[problem]
kind = "completion"
shape = [10, 10]
rank = 1
n_obs = 50

[model]
depth = 2
init_scale = 1e-2

[optimizer]
kind = "adam"
learning_rate = 1e-2

[train]
max_steps = 200
log_every = 50

[grid]
"problem.n_obs" = [40, 60]
"""


def test_grid_expansion_ids_and_canonical_defaults():
    study = load_study(text=TINY)
    trials = expand(study)
    assert study.size() == len(trials) == 4
    assert len({t.trial_id for t in trials}) == 4
    c = trials[0].config
    assert c["optimizer"] == {
        "kind": "adam",
        "learning_rate": 0.01,
        "b1": 0.9,
        "b2": 0.999,
        "eps": 1e-8,
    }
    assert c["penalty"] == {"kind": "none"}
    assert c["train"]["tol"] == 0.0 and c["model"]["init"] == "gaussian"
    # writing a default out does not change a trial's identity
    explicit = load_study(text=TINY.replace('kind = "adam"', 'kind = "adam"\nb1 = 0.9'))
    assert [t.trial_id for t in expand(explicit)] == [t.trial_id for t in trials]
    assert sorted({t.config["problem"]["n_obs"] for t in trials}) == [40, 60]


def test_zip_and_section_axes():
    text = (
        TINY
        + """
[[zip]]
"model.depth" = [1, 3]
"optimizer.learning_rate" = [0.1, 0.001]
"""
    )
    trials = expand(load_study(text=text))
    pairs = {(t.config["model"]["depth"], t.config["optimizer"]["learning_rate"]) for t in trials}
    assert pairs == {(1, 0.1), (3, 0.001)}
    assert len(trials) == 2 * 2 * 2
    text = (
        TINY
        + """
[[zip]]
model = [{kind = "factorization", depth = 1}, {kind = "factorization", depth = 4}]
"""
    )
    depths = {t.config["model"]["depth"] for t in expand(load_study(text=text))}
    assert depths == {1, 4}


WHERE = """
[[zip]]
"optimizer.kind" = ["adam", "gd"]
"optimizer.learning_rate" = [1e-2, 5.0]

[[zip]]
penalty = [{kind = "none"}, {kind = "ratio", lam = 1e-3, method = "subspace", rank = 4}]
"""


def test_where_rules_change_only_the_points_they_match():
    plain = {t.trial_id: t for t in expand(load_study(text=TINY + WHERE))}
    rule = """
[[where]]
match = { "optimizer.kind" = "gd", "penalty.kind" = "ratio" }
set = { "penalty.method" = "svd" }
"""
    study = load_study(text=TINY + WHERE + rule)
    trials = expand(study)
    assert len(trials) == len(plain) == 16
    changed = [t for t in trials if t.trial_id not in plain]
    assert len(changed) == 4  # gd + ratio: 2 n_obs × 2 seeds
    for t in trials:
        gd_ratio = t.config["optimizer"]["kind"] == "gd" and t.config["penalty"]["kind"] == "ratio"
        assert (t in changed) == gd_ratio
        if gd_ratio:
            assert t.config["penalty"]["method"] == "svd" and t.config["penalty"]["lam"] == 1e-3
    match = {"optimizer.kind": "gd", "penalty.kind": "ratio"}
    assert study.to_dict()["where"] == [{"match": match, "set": {"penalty.method": "svd"}}]
    # a shard or quick form that leaves out the rule's points still loads (the file as written
    # must use every rule: see the errors below)
    adam_only = 'zip=[{optimizer=[{kind="adam", learning_rate=1e-2}], penalty=[{kind="none"}]}]'
    shard = expand(load_study(text=TINY + WHERE + rule, overrides=[adam_only]))
    assert len(shard) == 4 and all(t.trial_id in plain for t in shard)
    typo = rule.replace('"optimizer.kind" = "gd"', '"optimizer.kind" = "GD"')
    for over in ([adam_only], ["train.max_steps=10"]):  # not even with overrides
        with pytest.raises(StudyError, match=r"where: rule 1 .* matches none of the study's"):
            load_study(text=TINY + WHERE + typo, overrides=over)


def test_where_rules_match_defaults_and_apply_in_order():
    rules = """
[[where]]
match = { "optimizer.b1" = 0.9 }  # Adam's default, not written in the file
set = { "optimizer.learning_rate" = 0.5 }

[[where]]
match = { "optimizer.learning_rate" = 0.5 }  # sees the first rule's change
set = { model = { depth = 1 } }
"""
    trials = expand(load_study(text=TINY + WHERE + rules))
    adam = [t for t in trials if t.config["optimizer"]["kind"] == "adam"]
    gd = [t for t in trials if t.config["optimizer"]["kind"] == "gd"]
    assert {t.config["optimizer"]["learning_rate"] for t in adam} == {0.5}
    assert {t.config["model"]["depth"] for t in adam} == {1}
    # a bare section replaces the whole table: the file's init_scale 1e-2 is gone
    assert {t.config["model"]["init_scale"] for t in adam} == {1e-3}
    assert {t.config["model"]["init_scale"] for t in gd} == {1e-2}
    assert {(t.config["optimizer"]["learning_rate"], t.config["model"]["depth"]) for t in gd} == {
        (5.0, 2)
    }


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        (
            'match = { "optimizer.kind" = "GD" }\nset = { "train.max_steps" = 5 }',
            r"<string>:\d+: where: rule 1 \(optimizer.kind = 'GD'\) matches none of the study's",
        ),
        ('match = { "optimizer.kind" = "gd" }', r"where: rule 1 must be a table with exactly"),
        ('match = {}\nset = { "train.max_steps" = 5 }', r"rule 1: match must be a non-empty"),
        ('match = { optimizer = "gd" }\nset = { "train.tol" = 0.1 }', r"match keys are dotted"),
        ('match = { "optimzer.kind" = "gd" }\nset = { "train.tol" = 0.1 }', r"'optimizer'"),
        (
            'match = { "optimizer.kind" = "gd" }\nset = { "train.max_stepz" = 5 }',
            r"train.max_stepz: unknown key",
        ),
        ('match = { "optimizer.kind" = "gd" }\nset = { train = 5 }', r"takes a list of tables"),
    ],
)
def test_bad_where_rules_say_what_is_wrong(rule, match):
    with pytest.raises(StudyError, match=match):
        load_study(text=TINY + WHERE + "\n[[where]]\n" + rule + "\n")


def test_overrides():
    study = load_study(
        text=TINY,
        overrides=[
            "train.max_steps=7",
            "grid.model.depth=[1, 2]",
            "n_seeds=1",
            "optimizer.kind=gd",
            "optimizer.learning_rate=5",
        ],
    )
    trials = expand(study)
    assert len(trials) == 2 * 2
    assert {t.config["train"]["max_steps"] for t in trials} == {7}
    assert {t.config["optimizer"]["kind"] for t in trials} == {"gd"}
    fixed = load_study(text=TINY, overrides=["problem.n_obs=30"])  # replaces the grid axis
    assert {t.config["problem"]["n_obs"] for t in expand(fixed)} == {30}


def test_select_picks_trials_by_config_value():
    trials = expand(load_study(text=TINY, overrides=["grid.model.depth=[1, 2, 3]", "n_seeds=3"]))
    assert len(trials) == 2 * 3 * 3

    def pick(*only):
        return {
            (t.config["problem"]["n_obs"], t.config["model"]["depth"], t.seed)
            for t in select(trials, only)
        }

    assert pick() == pick(("seed", [0, 1, 2]))  # nothing asked: every trial
    assert len(pick()) == 18
    assert pick(("problem.n_obs", 60), ("model.depth", [1, 3]), ("seed", 0)) == {
        (60, 1, 0),
        (60, 3, 0),
    }
    assert pick(("problem.n_obs", 60.0)) == pick(("problem.n_obs", [60]))  # equal numbers match
    assert len(pick(("problem.shape", [[10, 10]]))) == 18  # a list-valued field: a list of lists
    assert [t.trial_id for t in select(trials, [("seed", [2, 0])])] == [
        t.trial_id for t in trials if t.seed in (0, 2)
    ]  # the study's order, not the asked one
    with pytest.raises(
        StudyError, match=r"--only model.dept: no trial .*did you mean 'model.depth'"
    ):
        select(trials, [("model.dept", 2)])
    with pytest.raises(
        StudyError,
        match=r"matches none of the study's 18 trials \(problem.n_obs "
        r"takes the values 40, 60\)",
    ):
        select(trials, [("problem.n_obs", 50)])
    with pytest.raises(
        StudyError, match=r"--only seed=2 --only problem.n_obs=\[60\]: matches none.* 40\)$"
    ):
        select(trials[:3], [("seed", 2), ("problem.n_obs", [60])])  # the first 3: n_obs 40


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (("rank = 1", "rnak = 1"), r"<string>:8: problem.rnak: unknown key.*did you mean 'rank'"),
        (("rank = 1", "rank = 11"), r"<string>:8: problem.rank: rank must be <= 10"),
        (("rank = 1", 'rank = "one"'), r"problem.rank: rank must be an integer"),
        (('kind = "adam"', 'kind = "adma"'), r"optimizer.kind: unknown value 'adma'.*'adam'"),
        (("learning_rate = 1e-2", "learning_rate = -1.0"), r"optimizer.learning_rate: .*> 0"),
        (('"problem.n_obs" = [40, 60]', '"problem.n_obs" = []'), r"non-empty list"),
        (('"problem.n_obs"', '"problme.n_obs"'), r"did you mean 'problem'"),
        (("max_steps = 200", "max_step = 200"), r"train.max_step: unknown key.*'max_steps'"),
        (('name = "tiny"', 'name = "tiny"\ncolour = 1'), r"unknown top-level key"),
        (("n_seeds = 2", "n_seeds = 0"), r"n_seeds must be >= 1"),
        (("[grid]", '[report]\nplot = "bars"\n[grid]'), r"report.plot: unknown plot 'bars'"),
        (("[grid]", "[report]\nhue = 3\n[grid]"), r"report.hue: hue must be a column name"),
        (("[grid]", "[report]\nby = []\n[grid]"), r"report.by: by must be a non-empty list"),
        (("[grid]", '[report]\nclaim_label = ""\n[grid]'), r"report.claim_label: .*non-empty"),
        (
            ("[grid]", '[[report.checks]]\nsays = "x"\nrows = []\n[grid]'),
            r"report.checks: check 1: rows must be a non-empty list",
        ),
        (
            ("[grid]", '[[report.checks]]\nsays = "x"\nrows = ["a"]\n[grid]'),
            r"report.checks: check 1: give at_most or at_least",
        ),
        (
            ("[grid]", '[[report.checks]]\nsays = "x"\nrows = ["a"]\nat_mots = 1\n[grid]'),
            r"report.checks: check 1: unknown key 'at_mots'",
        ),
        (
            ("[grid]", '[[report.checks]]\nsays = "x"\nrows = ["a"]\nthan_at = [1, 2]\n[grid]'),
            r"report.checks: check 1: than_at must be one x value",
        ),
        (
            (
                "[grid]",
                '[[report.checks]]\nsays = "x"\nrows = ["a"]\nthan_at = 1\nat_most = 0\n[grid]',
            ),
            r"report.checks: check 1: at_most is a factor .* > 0",
        ),
        (("[grid]", "[report]\nxx = 1\n[grid]"), r"report.xx: unknown key.*did you mean 'x'"),
        (("log_every = 50", 'reference = "nuclear"'), r"train.reference: .*nuclear_norm"),
    ],
)
def test_bad_study_files_name_file_line_and_key(change, match):
    with pytest.raises(StudyError, match=match):
        load_study(text=TINY.replace(*change))


def test_unreadable_and_non_toml_files(tmp_path):
    with pytest.raises(StudyError, match="no such study file"):
        load_study(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed")
    with pytest.raises(StudyError, match=r"bad\.toml: not valid TOML"):
        load_study(bad)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StudyError, match="cannot read"):
        load_study(binary)


def test_batches_group_compatible_trials():
    text = TINY + '\n"model.depth" = [1, 2]\n'
    trials = expand(load_study(text=text))
    batches = make_batches(trials, 8)
    assert len(batches) == 2  # one per depth; sample sizes and seeds share a batch
    assert all(len({t.config["model"]["depth"] for t in b}) == 1 for b in batches)
    assert sum(len(b) for b in batches) == len(trials)


def test_parallel_runs_start_the_longest_trials_first():
    """Cost order: deeper models, a penalty's SVD and more sensing measurements cost more;
    equal costs keep the grid's order (a stable sort)."""
    from algoreg.studies.executors import longest_first
    from algoreg.studies.grid import estimated_cost

    text = TINY + '"model.depth" = [1, 3, 2]\n'
    batches = longest_first(make_batches(expand(load_study(text=text)), 1))
    depths = [b[0].config["model"]["depth"] for b in batches]
    assert depths == [3] * 4 + [2] * 4 + [1] * 4
    n_obs = [b[0].config["problem"]["n_obs"] for b in batches]
    assert n_obs[:4] == [40, 40, 60, 60]  # completion cost does not depend on n_obs
    config = batches[0][0].config
    ratio = {**config, "penalty": {"kind": "ratio", "lam": 0.1, "method": "svd"}}
    sub = {**config, "penalty": {"kind": "ratio", "lam": 0.1, "method": "subspace", "rank": 2}}
    assert estimated_cost(ratio) > estimated_cost(sub) > estimated_cost(config)
    sensing = {**config, "problem": {**config["problem"], "kind": "sensing"}}
    more = {**sensing, "problem": {**sensing["problem"], "n_obs": 80}}
    assert estimated_cost(more) > estimated_cost(sensing) > estimated_cost(config)


def test_memory_estimate_bounds_the_measured_peaks_and_warns_when_too_big():
    """The estimate bounds the measured nuclear-norm sensing peaks (100×100: 2.3, 9.2 and
    14.5 GB at 1000, 3000 and 5000 measurements), within 5% at the large ones, and keeps a
    factorization trial on the same data far below them; a batch estimated above the memory
    available is named in a MemoryWarning."""
    from algoreg.errors import MemoryWarning
    from algoreg.studies.executors import warn_oversized
    from algoreg.studies.grid import WORKER_BYTES, Trial, estimated_memory

    def config(model, kind="sensing", n_obs=1000):
        return {
            "model": {"kind": model},
            "problem": {"kind": kind, "shape": [100, 100], "n_obs": n_obs},
        }

    for n_obs, peak in ((1000, 2.3e9), (3000, 9.2e9), (5000, 14.5e9)):
        estimate = estimated_memory(config("nuclear_norm", n_obs=n_obs))
        assert estimate >= 0.99 * peak and (n_obs < 3000 or estimate < 1.05 * peak)
    deep = estimated_memory(config("factorization", n_obs=5000))
    assert WORKER_BYTES < deep < estimated_memory(config("nuclear_norm", n_obs=1000))
    assert estimated_memory(config("nuclear_norm", "completion", 5000)) == WORKER_BYTES
    # a factorization's parameters count: depth 3 of width 100 on 100×100, three 10⁴ factors
    (deep3 := config("factorization", "completion"))["model"].update(depth=3, width=100)
    assert estimated_memory(deep3) == WORKER_BYTES + 40 * 3 * 100 * 100
    deep3["model"]["depth"] = 10**8  # a mistyped depth is visible before it runs
    assert estimated_memory(deep3) > 1e13
    heavy = [[Trial("abc", config("nuclear_norm", n_obs=5000))], [Trial("def", config("svt"))]]
    with pytest.warns(
        MemoryWarning,
        match=r"1 batch.* up to 14.\d GB .*trial abc: nuclear_norm on "
        r"100×100 sensing, n_obs 5000.*than the 12.0 GB available",
    ):
        warn_oversized(heavy, 12e9)


def test_parallel_batches_stay_within_the_memory_budget(monkeypatch):
    """At most ``jobs`` batches run at once, and only as many as fit in the budget beside each
    other: a heavy batch waits while lighter ones behind it go ahead; one batch larger than the
    whole budget still runs, alone."""
    import concurrent.futures as cf
    import threading
    import time
    from types import SimpleNamespace

    from algoreg.studies import executors

    monkeypatch.setattr(executors, "estimated_memory", lambda config: config["bytes"])
    sizes = [6, 6, 1, 1, 12, 1, 6, 1]
    batches = [
        [SimpleNamespace(trial_id=f"t{i}", config={"bytes": b})] for i, b in enumerate(sizes)
    ]
    lock, in_use, seen = threading.Lock(), [0], []

    def work(batch):
        need = batch[0].config["bytes"]
        with lock:
            in_use[0] += need
            seen.append((in_use[0], need))
        time.sleep(0.02)
        with lock:
            in_use[0] -= need
        return batch[0].trial_id

    with cf.ThreadPoolExecutor(3) as pool:
        done = [
            f.result()
            for f in executors.run_bounded(lambda b: pool.submit(work, b), batches, 3, 10.0)
        ]
    assert sorted(done) == sorted(f"t{i}" for i in range(len(sizes)))
    assert all(total <= 10 or total == need for total, need in seen)  # 12 only alone
    assert max(total for total, _ in seen) > 6  # light batches did run beside heavy ones
    assert executors.next_fitting([6, 1, 6], 6.0, 10.0) == 1
    assert executors.next_fitting([6, 6], 6.0, 10.0) is None
    assert executors.next_fitting([6, 6], 6.0, None) == 0


def test_run_study_stores_and_resumes(tmp_path):
    study = load_study(text=TINY)
    first = ar.studies.run_study(study, tmp_path, jobs=1, progress=False)
    assert first.ran == 4 and first.skipped == 0
    again = ar.studies.run_study(study, tmp_path, jobs=1, progress=False)
    assert again.ran == 0 and again.skipped == 4
    with ar.studies.Store(tmp_path) as store:
        rows = store.trials()
        assert len(rows) == 4
        assert {r["status"] for r in rows} == {"max_steps"}
        h = store.history(rows[0]["trial_id"])
        assert list(h["step"]) == [0, 50, 100, 150, 200]
        assert h["singular_values"].shape == (5, 10)
        assert np.all(np.diff(h["train_loss"]) < 0)
    # the stored metrics are those of the engine for the same trial
    t = expand(study)[0]
    from algoreg.studies.runner import build_problem, build_training

    parts = build_training(t.config)
    r = ar.fit(
        build_problem(t.config),
        parts["model"],
        optimizer=parts["optimizer"],
        seed=ar.studies.init_seed(t.seed),
        max_steps=200,
        log_every=50,
    )
    stored = next(x for x in rows if x["trial_id"] == t.trial_id)
    assert stored["metrics"]["test_error"] == pytest.approx(r.test_error, rel=1e-6)


def test_same_study_twice_gives_identical_metrics(tmp_path):
    study = load_study(text=TINY, overrides=["n_seeds=1"])
    for d in ("a", "b"):
        ar.studies.run_study(study, tmp_path / d, jobs=1, progress=False)
    metrics = []
    for d in ("a", "b"):
        with ar.studies.Store(tmp_path / d) as store:
            metrics.append(
                json.dumps({r["trial_id"]: r["metrics"] for r in store.trials()}, sort_keys=True)
            )
    assert metrics[0] == metrics[1]


def test_failing_trial_is_recorded_and_study_goes_on(tmp_path):
    # a learning rate this large diverges; the study records it and finishes the rest
    text = TINY + '\n"optimizer.learning_rate" = [1e-2, 1e6]\n'
    summary = ar.studies.run_study(load_study(text=text), tmp_path, jobs=1, progress=False)
    assert summary.ran == 8
    assert summary.counts.get("diverged", 0) >= 1 and summary.counts.get("max_steps", 0) == 4


def test_exception_in_a_trial_is_recorded_and_retried_on_request(tmp_path, monkeypatch):
    from algoreg.studies import executors, runner

    study = load_study(text=TINY, overrides=["n_seeds=1"])
    real = runner.build_problem

    def flaky(config):
        if config["problem"]["n_obs"] == 60:
            raise RuntimeError("disk on fire")
        return real(config)

    monkeypatch.setattr(runner, "build_problem", flaky)
    summary = executors.run_study(study, tmp_path, jobs=1, progress=False)
    assert summary.counts == {"failed": 1, "max_steps": 1}
    with ar.studies.Store(tmp_path) as store:
        failed = [r for r in store.trials() if r["status"] == "failed"]
    assert "RuntimeError: disk on fire" in failed[0]["error"]
    monkeypatch.setattr(runner, "build_problem", real)
    assert executors.run_study(study, tmp_path, jobs=1, progress=False).ran == 0  # kept
    again = executors.run_study(study, tmp_path, jobs=1, progress=False, retry_failed=True)
    assert again.ran == 1 and again.counts == {"max_steps": 2}


@pytest.mark.parametrize("name", ar.studies.PRESETS)
def test_presets_load_and_expand(name):
    over = []
    if name == "movielens100k":  # needs the data folder (--data)
        from test_ratings import ml100k_path

        if not (ml100k_path() / "u.data").is_file():
            with pytest.raises(StudyError, match=r"problem.path: .*does not exist"):
                load_study(ar.studies.preset_path(name))
            pytest.skip("MovieLens-100K not available")
        over = [f'problem.path="{ml100k_path()}"']
    if name.startswith("weylandt2020"):  # the clustering data folder (--data)
        from test_clustering_study import SHARED

        if not (SHARED / "blobs.csv").is_file():
            with pytest.raises(StudyError, match=r"problem.path: .*does not exist"):
                load_study(ar.studies.preset_path(name))
            pytest.skip("shared clustering data absent")
        over = [f'problem.path="{SHARED}"']
    full = load_study(ar.studies.preset_path(name), overrides=over)
    quick = load_study(ar.studies.preset_path(name), quick=True, overrides=over)

    def budget(study):  # trials x training steps (a convex baseline counts as one step)
        return sum(t.config.get("train", {}).get("max_steps", 1) for t in expand(study))

    assert 0 < len(expand(quick)) <= len(expand(full)) and budget(quick) < budget(full)
    assert len({t.trial_id for t in expand(full)}) == full.size()


@pytest.mark.parametrize(("kind", "lr"), [("completion", 2.0), ("sensing", 0.5)])
def test_reference_distance_shrinks_with_init_scale(tmp_path, kind, lr):
    """Gunasekar et al.: depth-2 GD from a smaller init ends closer to the min-nuclear-norm
    solution (``train.reference``), here on a data-rich 12×12 rank-1 problem: 100 observed
    entries, or 100 Gaussian measurements (GD's stable step is smaller there)."""
    pytest.importorskip("cvxpy")
    text = TINY.replace("shape = [10, 10]", "shape = [12, 12]").replace("n_obs = 50", "n_obs = 100")
    text = text.replace('kind = "completion"', f'kind = "{kind}"')
    text = text.replace('kind = "adam"\nlearning_rate = 1e-2', f'kind = "gd"\nlearning_rate = {lr}')
    text = text.replace("max_steps = 200", 'max_steps = 40000\ntol = 1e-12\ndtype = "float64"')
    text = text.replace("log_every = 50", 'log_every = 10000\nreference = "nuclear_norm"')
    text = text.replace('"problem.n_obs" = [40, 60]', '"model.init_scale" = [1e-1, 1e-3]')
    study = load_study(text=text.replace("n_seeds = 2", "n_seeds = 1"))
    ar.studies.run_study(study, tmp_path, jobs=1, progress=False)
    with ar.studies.Store(tmp_path) as store:
        rows = {t["config"]["model"]["init_scale"]: t["metrics"] for t in store.trials()}
    near, far = rows[1e-3], rows[1e-1]
    assert near["reference_test_error"] == far["reference_test_error"] < 1e-4  # recovers
    assert near["dist_to_reference"] < 0.2 * far["dist_to_reference"]
    assert near["dist_to_reference"] < 0.02


def test_early_stopping_metrics_read_the_best_validation_point():
    from algoreg.studies.runner import early_stopping_metrics

    history = {
        "step": np.array([0, 10, 20, 30]),
        "val_error": np.array([1.0, 0.5, np.nan, 0.7]),
        "rmse": np.array([1.1, 0.9, 0.8, 0.95]),
        "singular_values": np.ones((4, 3)),  # vectors are left out
    }
    out = early_stopping_metrics(history, {"val_error": 0.7, "rmse": 0.95}, 30)
    assert out == {"es_step": 10.0, "es_val_error": 0.5, "es_rmse": 0.9}
    no_val = {"step": np.arange(2), "val_error": np.full(2, np.nan)}
    assert early_stopping_metrics(no_val, {"val_error": np.nan}, 2) == {}
    # a baseline: no validation history, a final val_error -> stops at its end
    final = {"val_error": 0.8, "rmse": 0.97}
    assert early_stopping_metrics({}, final, 40) == {
        "es_step": 40.0,
        "es_val_error": 0.8,
        "es_rmse": 0.97,
    }


def test_a_ratings_study_names_the_same_trials_from_any_working_directory(tmp_path, monkeypatch):
    """The data folder, spelled relative or absolute, from any working directory or on another
    machine, must give the same trial ids (else a finished store reruns, shards don't merge)."""
    data = tmp_path / "data" / "ml-100k"
    data.mkdir(parents=True)
    for name in ("u.data", "u1.base", "u1.test"):  # resolving a config hashes, parses nothing
        (data / name).write_text("")
    text = TINY.replace('kind = "completion"\nshape = [10, 10]\nrank = 1\nn_obs = 50', "")
    text = text.replace('[grid]\n"problem.n_obs" = [40, 60]\n', "")
    text = text.replace("[problem]", '[problem]\nkind = "ratings"\npath = "PATH"')

    def ids(path: str) -> list[str]:
        return [t.trial_id for t in expand(load_study(text=text.replace("PATH", path)))]

    absolute = ids(str(data))
    monkeypatch.chdir(tmp_path)
    assert ids("data/ml-100k") == absolute
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert ids("../data/ml-100k") == absolute
    # the data enter by content: a copy in another folder (another machine) names the same
    # trials, so shards merge; other ratings name other trials
    copy = tmp_path / "box2" / "ml-100k"
    copy.mkdir(parents=True)
    for name in ("u.data", "u1.base", "u1.test"):
        (copy / name).write_bytes((data / name).read_bytes())
    assert ids(str(copy)) == absolute
    config = expand(load_study(text=text.replace("PATH", str(copy))))[0].config
    assert config["problem"]["path"] == str(copy)  # where it ran is still recorded
    (copy / "u1.test").write_text("1\t1\t5\t0\n")
    assert not set(ids(str(copy))) & set(absolute)
    from algoreg.problems.ratings_study import ratings

    with pytest.raises(ar.errors.ConfigError, match=r"not the .* this trial was defined with"):
        ratings(str(copy), data_sha256=config["problem"]["data_sha256"])


def _dump_db(store):
    """Every table of a store (trials in insertion order; the rest sorted by key): the round
    trip's yardstick."""
    order = {"meta": "key", "trials": "rowid", "history": "1, 2, 3", "history_vectors": "1, 2, 3"}
    return {
        t: store.db.execute(f"SELECT * FROM {t} ORDER BY {o}").fetchall() for t, o in order.items()
    }


@pytest.mark.parametrize("name", ["results.jsonl.gz", "results.jsonl"])
def test_archive_round_trip_is_exact(tmp_path, name):
    from algoreg.errors import ConfigError

    study = load_study(text=TINY, overrides=["n_seeds=1"])
    ar.studies.run_study(study, tmp_path / "run", jobs=1, progress=False)
    with ar.studies.Store(tmp_path / "run") as store:  # a NaN metric and a NaN history value
        store.write(
            {"extra": 1},
            {
                "trial_id": "nan-trial",
                "status": "diverged",
                "error": None,
                "metrics": {"test_error": float("nan"), "steps": 3},
                "steps": 3,
                "wall_s": 0.25,
                "history": {"step": [0, 1], "train_loss": [1.0, float("nan")], "v": [[1.5], [2.5]]},
            },
        )
        assert store.dump(tmp_path / name) == 3
        umask = os.umask(0)
        os.umask(umask)
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask  # a file others read
        before, before_ids = _dump_db(store), store.study_ids()
        first = (tmp_path / name).read_bytes()
    with ar.studies.Store(tmp_path / name, create=False) as archived:
        after = _dump_db(archived)  # compared as text: NaN equals NaN
        assert json.dumps(after, default=repr) == json.dumps(before, default=repr)
        h = archived.history("nan-trial")
        assert np.isnan(h["train_loss"][1]) and h["v"].tolist() == [[1.5], [2.5]]
        archived.dump(tmp_path / ("again-" + name))
        # only the study's own trials (the study meta still comes along)
        assert archived.dump(tmp_path / ("own-" + name), archived.study_ids()) == 2
    assert (tmp_path / ("again-" + name)).read_bytes() == first  # same contents, same bytes
    with ar.studies.Store(tmp_path / ("own-" + name), create=False) as own:
        assert len(own.trials()) == 2 and own.study_ids() == before_ids
    with pytest.raises(ConfigError, match="an archive is read-only"):
        ar.studies.Store(tmp_path / name)
    assert not list(tmp_path.glob(".*partial"))  # no temporary file left behind


def test_archive_errors_name_the_file_and_line(tmp_path):
    from algoreg.errors import ConfigError

    def opened(text, name="a.jsonl"):
        (tmp_path / name).write_text(text)
        return ar.studies.Store(tmp_path / name, create=False)

    with pytest.raises(ConfigError, match=r"missing\.jsonl: no such archive file"):
        ar.studies.Store(tmp_path / "missing.jsonl", create=False)
    with pytest.raises(ConfigError, match=r"a\.jsonl: not an algoreg archive"):
        opened('{"trial_id": "x"}\n')
    with pytest.raises(ConfigError, match=r"a\.jsonl: not an algoreg archive"):
        opened("name,value\n")
    with pytest.raises(ConfigError, match="archive format 7; this algoreg reads format 1"):
        opened('{"algoreg_archive": 7, "meta": {}}\n')
    head = '{"algoreg_archive": 1, "meta": {}}\n'
    with pytest.raises(ConfigError, match=r"a\.jsonl, line 3: not a trial record"):
        opened(head + _trial_line("t1") + '{"trial": {}}\n')
    with pytest.raises(ConfigError, match=r"a\.jsonl, line 3: not a trial record.*UNIQUE"):
        opened(head + _trial_line("t1") + _trial_line("t1"))  # one trial's history twice
    with pytest.raises(ConfigError, match=r"a\.jsonl: not an algoreg archive \(its first line"):
        opened('{"algoreg_archive": 1, "meta": [1]}\n')
    with pytest.raises(ConfigError, match=r"b\.jsonl\.gz: unreadable.*Not a gzipped file"):
        opened("plain text, not gzip", "b.jsonl.gz")
    good = tmp_path / "c.jsonl.gz"
    with ar.studies.Store(tmp_path / "s") as store:
        for tid in ("t1", "t2", "t3"):
            store.write({"a": 1}, {**json.loads(_trial_line(tid))["trial"], "history": {}})
        store.dump(good)
    data = good.read_bytes()
    good.write_bytes(data[:-9])  # cut inside the gzip trailer
    with pytest.raises(ConfigError, match=r"c\.jsonl\.gz: unreadable, truncated or corrupt at"):
        ar.studies.Store(good, create=False)
    for i in range(12, len(data) - 8, 7):  # a flipped byte anywhere in the compressed body
        good.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
        with pytest.raises(ConfigError, match=r"c\.jsonl\.gz(: |, line)"):
            ar.studies.Store(good, create=False)
    vector = '{"v": [[0, "AAAA"]]}'  # 3 bytes: not float64 values
    with pytest.raises(ConfigError, match=r"line 2: not a trial record.*3 bytes"):
        opened(head + _trial_line("t1").replace('"vectors": {}', f'"vectors": {vector}'))
    with pytest.raises(ConfigError, match=r"line 2: not a trial record.*must be tables"):
        opened(head + _trial_line("t1").replace('"config": {}', '"config": 7'))
    with (
        ar.studies.Store(tmp_path / "s") as store,
        pytest.raises(ConfigError, match=r"an archive's name ends in \.jsonl or \.jsonl\.gz"),
    ):
        store.dump(tmp_path / "x.json")


def _trial_line(tid):
    trial = {
        "trial_id": tid,
        "config": {},
        "status": "converged",
        "error": None,
        "metrics": {},
        "steps": 1,
        "wall_s": 0.1,
        "batch_size": 1,
        "version": "0",
        "finished_at": "2026-01-01T00:00:00+00:00",
    }
    history = {"train_loss": [[0, 1.0]]}
    return json.dumps({"trial": trial, "history": history, "vectors": {}}) + "\n"


def test_a_failed_trial_is_recorded_even_when_the_backend_will_not_start(monkeypatch):
    """The record of a failure names the software it ran with without raising itself."""
    import jax

    from algoreg.studies import runner

    def broken() -> str:
        raise RuntimeError("Unable to initialize backend 'cuda'")

    runner.software.cache_clear()
    monkeypatch.setattr(jax, "default_backend", broken)
    try:
        record = runner._failed("t0", ValueError("bad"), 0.5)
    finally:
        runner.software.cache_clear()
    assert record["status"] == "failed" and "ValueError: bad" in record["error"]
    assert record["version"].endswith(", no backend (RuntimeError)")
