"""The registry of trial kinds not trained by the engine (:mod:`algoreg.studies.kinds`): a
contract every registered kind passes, and a kind defined here (one function, one
``register`` line) runs from a study file through ``algoreg run`` with its store."""

import json
import math
from dataclasses import dataclass

import pytest

from algoreg.cli import main
from algoreg.errors import ConfigError, check_real
from algoreg.studies import expand, kinds, load_study
from algoreg.studies.kinds import KINDS, TrialKind, from_dataclass, register

# one small, quick setting per registered kind (and its problem, for kinds that read one)
SMALL_MLP = {"sizes": [64, 8, 10], "dense_epochs": 1, "reg_epochs": 1, "finetune_epochs": 1}
EXAMPLES = {
    "nuclear_norm": {"delta": 0.0},
    "soft_impute": {},
    "svt": {},
    "hard_impute": {"rank": 1},
    "mlp_prune": {**SMALL_MLP, "penalty": "hoyer_square", "lam": 1e-4, "sensitivity": 0.5},
    "mlp_lowrank": {"sizes": [64, 8, 10], "epochs": 1, "penalty": "ratio", "lam": 0.1},
    "deep_linear": {"dim": 4, "rank": 1, "steps": 20, "penalty": "ratio", "lam": 0.1},
    "convex_clustering": {"method": "carp", "t": 1.1, "vs_exact": True},
    "bias_model": {"lams": [5.0, 10.0]},
    "biased_mf": {"ranks": [2], "lams": [10.0], "max_sweeps": 2},
    "surprise": {"algorithm": "svd", "n_epochs": 2},
}
PROBLEM = {"kind": "completion", "shape": [8, 6], "rank": 1, "n_obs": 30}
OWN_PROBLEM = {"convex_clustering": {"data": "iris"}}  # kinds that read data of their own
# the ratings baselines need a ratings problem: MovieLens-100K (skipped without it)
RATINGS = ("bias_model", "biased_mf", "surprise")


def test_every_registered_kind_has_a_contract_example():
    assert set(EXAMPLES) == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_trial_kind_contract(name):
    kind = kinds.get(name)
    problem = OWN_PROBLEM.get(name, PROBLEM)
    if name in RATINGS:
        from test_ratings import ml100k_path

        from algoreg.baselines.recommender import surprise_available

        if not (ml100k_path() / "u.data").is_file():
            pytest.skip("MovieLens-100K not available")
        if name == "surprise" and not surprise_available():
            pytest.skip("scikit-surprise absent")
        problem = {"kind": "ratings", "path": str(ml100k_path()), "validation": 0.1}
    settings = kind.check(dict(EXAMPLES[name]))
    assert set(settings) <= set(kind.settings)  # canonical: every default filled, no extra
    assert set(EXAMPLES[name]) <= set(settings)
    assert kind.check(dict(settings)) == settings  # idempotent: one trial, one identity
    json.dumps(settings)  # canonical JSON, as the trial id hashes it
    text = f'name = "c"\n[model]\nkind = "{name}"\n' + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in EXAMPLES[name].items()
    )
    if "problem" in kind.sections:
        text += "[problem]\n" + "".join(
            f"{k} = {json.dumps(v)}\n"
            for k, v in problem.items()
            if problem.get("kind") == "ratings" or k != "kind"
        )
    (trial,) = expand(load_study(text=text))
    assert set(trial.config) == {"model", "seed", *kind.sections}  # nothing else enters
    result = kind.run(trial.config)
    metrics = result["metrics"]
    assert metrics and all(isinstance(v, float) for v in metrics.values())
    # finite, but for a validation error where the problem holds no validation entries
    assert all(math.isfinite(v) for k, v in metrics.items() if "val_" not in k)
    assert result.get("status", "max_steps") in ("converged", "max_steps", "diverged")
    again = kind.run(trial.config)
    pure = lambda m: {k: v for k, v in m.items() if k not in kind.timings}  # noqa: E731
    assert repr(pure(again["metrics"])) == repr(pure(metrics))  # pure in the config (NaN too)
    assert isinstance(kinds.label(trial.config), str)
    with pytest.raises(ConfigError, match=r"model\.not_a_setting: unknown key"):
        load_study(text=text.replace("[model]\n", "[model]\nnot_a_setting = 1\n"))


def test_register_refuses_a_taken_name_or_what_is_not_a_kind():
    with pytest.raises(ConfigError, match="already registered"):
        register("factorization", KINDS["svt"])  # a trained model's name
    with pytest.raises(ConfigError, match="already registered"):
        register("svt", KINDS["nuclear_norm"])
    with pytest.raises(ConfigError, match="must be a TrialKind"):
        register("toy", lambda config: {})


# --------------------------------------------------------------- a trial kind from outside


@dataclass(frozen=True)
class Coin:
    """A biased coin flipped ``flips`` times: the fraction of heads estimates ``p``."""

    p: float = 0.5
    flips: int = 100

    def __post_init__(self) -> None:
        check_real("p", self.p, low=0.0, high=1.0)


def flip(config):
    import numpy as np

    coin = Coin(**{k: v for k, v in config["model"].items() if k != "kind"})
    heads = np.random.default_rng(config["seed"]).random(coin.flips) < coin.p
    return {"metrics": {"heads": float(heads.mean())}, "history": {"step": [0, 1]}}


@pytest.fixture
def toy_kind():
    register("toy_coin", from_dataclass(Coin, flip))
    yield
    del KINDS["toy_coin"]


def test_a_kind_registered_from_outside_runs_from_a_study_file(tmp_path, capsys, toy_kind):
    study = tmp_path / "coin.toml"
    study.write_text(
        'name = "coin"\nn_seeds = 3\n[model]\nkind = "toy_coin"\nflips = 4000\n'
        '[grid]\n"model.p" = [0.2, 0.7]\n[optimizer]\nkind = "gd"\n'  # read by no trial
        '[report]\nx = "model.p"\ny = "heads"\n'
    )
    out = tmp_path / "out"
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    assert "coin: 6 trials, 0 already stored, 6 run now" in capsys.readouterr().out
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    assert "6 already stored, 0 run now" in capsys.readouterr().out  # resumed: nothing again
    assert main(["results", str(out), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["method"] for r in rows} == {"toy coin"} and "optimizer.kind" not in rows[0]
    for r in rows:
        assert abs(r["heads"] - r["model.p"]) < 0.03 and r["status"] == "max_steps"
    assert main(["report", str(out), "--out", str(tmp_path / "r.md")]) == 0
    assert "| toy coin | 0.7 |" in (tmp_path / "r.md").read_text()
    study.write_text(study.read_text().replace("[0.2, 0.7]", "[0.2, 2.0]"))
    assert main(["run", str(study), "--dry-run"]) == 2
    assert "model.p: p must be <= 1.0" in capsys.readouterr().err


def test_a_kind_without_settings_dataclass_is_one_function_and_a_check():
    kind = TrialKind(run=flip, settings=("p",), check=lambda s: {"p": 0.5, **s})
    register("toy_plain", kind)
    try:
        (trial,) = expand(load_study(text='name = "x"\n[model]\nkind = "toy_plain"\n'))
        assert trial.config["model"] == {"kind": "toy_plain", "p": 0.5}
    finally:
        del KINDS["toy_plain"]


def test_a_network_kind_names_an_unknown_penalty_with_a_suggestion():
    text = 'name = "x"\n[model]\nkind = "mlp_prune"\npenalty = "hoyr"\n'
    with pytest.raises(ConfigError, match=r"model\.penalty: unknown penalty 'hoyr'.*'hoyer'"):
        load_study(text=text)
