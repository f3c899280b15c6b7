"""The model protocol and registry: a contract every registered kind passes, and a new kind
defined here (one class, one ``register`` line) runs from a study file with nothing else
touched."""

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg as ar
from algoreg.cli import main
from algoreg.errors import ConfigError, check_real
from algoreg.models import MODELS, Model

# one representative, small setting per registered kind (the contract runs each)
EXAMPLES: dict[str, dict[str, Any]] = {
    "factorization": {"depth": 3, "width": 7, "init_scale": 1e-2},
    "asymmetric": {"rank": 8, "init_scale": 1e-2, "imbalance": 2.0},
    "lifted": {"order": 3, "init": "gaussian", "init_scale": 1e-2},
    "factored": {"rank": 4, "depth": 3, "init_scale": 0.3, "bias": True},
}


def _completion(seed):
    return ar.problems.completion(shape=(8, 6), rank=1, n_obs=30, seed=seed)


# a problem the kind reads, where a completion problem is not one
PROBLEM = {"lifted": lambda seed: ar.problems.psd_sensing(n=4, m=6, seed=seed)}


def test_every_registered_kind_has_a_contract_example():
    assert set(EXAMPLES) == set(MODELS)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_model_contract(kind):
    model = ar.models.get(kind, **EXAMPLES[kind])
    assert isinstance(model, Model) and model.kind == kind
    assert dataclasses.is_dataclass(model) and dataclasses.fields(model)
    shape = (6, 5)
    key = jax.random.key(0)
    params = model.init_params(key, shape, jnp.float32)
    again = model.init_params(key, shape, jnp.float32)  # a pure function of the key
    other = model.init_params(jax.random.key(1), shape, jnp.float32)
    leaves, same, diff = (jax.tree.leaves(p) for p in (params, again, other))
    assert all(np.array_equal(a, b) for a, b in zip(leaves, same, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(leaves, diff, strict=True))
    assert sum(leaf.size for leaf in leaves) == model.param_count(shape)
    W = model.product(params)
    out = model.output_shape(shape) if hasattr(model, "output_shape") else shape
    assert W.shape == out and W.dtype == jnp.float32
    diags = model.diagnostics(params)
    assert diags and all(np.isfinite(np.asarray(v)).all() for v in diags.values())
    batched = jax.vmap(model.diagnostics)(jax.tree.map(lambda p: jnp.stack([p, p]), params))
    assert all(v.shape[0] == 2 for v in batched.values())  # vmap-able, as the engine needs
    assert model.step_flops(shape) >= 0 and isinstance(model.label("gd"), str)
    with pytest.raises(ConfigError, match="unknown setting"):
        ar.models.get(kind, not_a_setting=1)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_batch_equals_its_trials_run_one_by_one(kind):
    model = ar.models.get(kind, **EXAMPLES[kind])
    problems = [PROBLEM.get(kind, _completion)(seed=s) for s in (0, 1)]
    kw = {"optimizer": ar.optim.gd(learning_rate=0.05), "max_steps": 60, "log_every": 20}
    together = ar.fit_many(problems, model, seeds=[3, 4], **kw)
    for p, seed, batched in zip(problems, (3, 4), together, strict=True):
        alone = ar.fit(p, model, seed=seed, **kw)
        np.testing.assert_allclose(batched.matrix, alone.matrix, rtol=1e-5, atol=1e-7)


def test_unknown_kinds_are_named_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown model 'factorisation'.*'factorization'"):
        ar.models.get("factorisation")
    text = 'name = "x"\n[problem]\nshape = [6, 6]\nrank = 1\nn_obs = 20\n'
    with pytest.raises(ConfigError, match="did you mean 'factorization'"):
        ar.studies.load_study(text=text + '[model]\nkind = "factorisation"\n')


def test_register_refuses_what_is_not_a_model():
    class NoKind:
        pass

    with pytest.raises(ConfigError, match="needs a class attribute kind"):
        ar.models.register(NoKind)

    @dataclass(frozen=True)
    class Half:
        kind: ClassVar[str] = "half"

        def product(self, params):
            return params

    with pytest.raises(ConfigError, match="lacks diagnostics, init_params, label"):
        ar.models.register(Half)

    @dataclass(frozen=True)
    class Impostor(Sum):
        kind: ClassVar[str] = "factorization"

    with pytest.raises(ConfigError, match="already registered by Factorization"):
        ar.models.register(Impostor)


# --------------------------------------------------------------- a model kind from outside


@dataclass(frozen=True)
class Sum:
    """W = A + B from a small Gaussian start: a toy over-parameterization."""

    init_scale: float = 1e-2

    kind: ClassVar[str] = "toy_sum"

    def __post_init__(self) -> None:
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)

    def init_params(self, key, shape, dtype):
        a, b = jax.random.split(key)
        return {
            "A": self.init_scale * jax.random.normal(a, shape, dtype),
            "B": self.init_scale * jax.random.normal(b, shape, dtype),
        }

    def product(self, params):
        return params["A"] + params["B"]

    def diagnostics(self, params):
        # gradient flow on A + B keeps A − B fixed: its norm is the conserved quantity
        return {"difference": jnp.linalg.norm(params["A"] - params["B"])}

    def param_count(self, shape):
        return 2 * shape[0] * shape[1]

    def step_flops(self, shape):
        return 0.0

    def label(self, optimizer):
        return f"toy sum {optimizer}"


@pytest.fixture
def toy_model():
    ar.models.register(Sum)
    yield Sum
    del MODELS["toy_sum"]


def test_a_kind_registered_from_outside_runs_from_a_study_file(tmp_path, capsys, toy_model):
    study = tmp_path / "toy.toml"
    study.write_text(
        'name = "toy"\nn_seeds = 2\n[problem]\nshape = [8, 6]\nrank = 1\nn_obs = 40\n'
        '[model]\nkind = "toy_sum"\ninit_scale = 1e-3\n'
        '[optimizer]\nkind = "gd"\nlearning_rate = 0.2\n'
        "[train]\nmax_steps = 400\nlog_every = 100\n"
    )
    out = tmp_path / "out"
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    assert "toy: 2 trials, 0 already stored, 2 run now" in capsys.readouterr().out
    assert main(["results", str(out), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["method"] for r in rows} == {"toy sum gd"} and len(rows) == 2
    for r in rows:
        assert r["model.kind"] == "toy_sum" and r["model.init_scale"] == 1e-3
        assert r["train_loss"] < 1e-6  # A + B fits the observed entries
        # the conserved A − B: still at its initial size (≈ init_scale·√(2·48)) under GD
        assert 0 < r["difference"] < 0.02
    assert main(["report", str(out), "--out", str(tmp_path / "r.md")]) == 0
    assert "| toy sum gd |" in (tmp_path / "r.md").read_text()
    bad = study.read_text().replace("init_scale = 1e-3", "init_scale = -1.0")
    study.write_text(bad)
    assert main(["run", str(study), "--dry-run"]) == 2
    assert "model.init_scale: init_scale must be > 0.0" in capsys.readouterr().err
