"""Trial kinds not trained by the engine: one registry, one function each.

A study's ``[model] kind`` is either a model of :data:`algoreg.models.MODELS` (trained by the
engine, batched) or a :class:`TrialKind` of :data:`KINDS`: a convex baseline, a network
protocol (train → regularize → prune → fine-tune), a convex clustering path. A kind is

- ``run(config) -> {"metrics": {...}, "history": {...}, "status": ..., "steps": ...}``: the
  whole trial from its canonical config (``model`` with ``kind``, the ``sections`` it reads,
  ``seed``); only ``metrics`` is required (status defaults to ``"max_steps"``: it ran its
  budget, steps to 0, history to none);
- ``settings``: the ``[model]`` keys a study file may give, and ``check(settings) ->
  settings`` that validates them without running anything (a :class:`ConfigError` naming the
  key) and fills every default, so a trial's identity does not depend on what was written out;
- ``sections``: the other config sections it reads (a baseline reads ``problem``); the rest
  of a study file (``penalty``, ``optimizer``, ``train``, …) does not enter its trials;
- ``label(settings, with_lam)``: its method name in tables (default: the kind's name);
- ``problem(params) -> params``: for a kind that reads data of its own rather than a problem
  of :data:`algoreg.problems.PROBLEMS`, the check that validates and fills its ``[problem]``
  (as ``check`` does ``[model]``; no ``kind`` key);
- ``timings``: the metrics that are measured times (not a pure function of the config).

Adding a kind is one :func:`register` call (the built-in ones are the lines at the end).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from ..errors import ConfigError, unknown_name

Config = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class TrialKind:
    """A trial not trained by the engine (see the module)."""

    run: Callable[[Config], dict[str, Any]]
    settings: tuple[str, ...]
    check: Callable[[dict[str, Any]], dict[str, Any]]
    sections: tuple[str, ...] = ()
    label: Callable[[dict[str, Any], bool], str] | None = None
    problem: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    timings: tuple[str, ...] = ()
    doc: str = ""  # what it does, for the study-file reference


KINDS: dict[str, TrialKind] = {}


def register(name: str, kind: TrialKind) -> TrialKind:
    """Add ``kind`` to :data:`KINDS` as ``name``; a name taken by a trained model or another
    kind is an error."""
    from ..models import MODELS

    if not isinstance(kind, TrialKind):
        raise ConfigError(f"trial kind {name!r} must be a TrialKind, got {type(kind).__name__}")
    if name in MODELS or KINDS.get(name, kind) is not kind:
        raise ConfigError(f"trial kind {name!r} is already registered")
    KINDS[name] = kind
    return kind


def get(name: str) -> TrialKind:
    """The registered kind ``name``."""
    if name not in KINDS:
        raise unknown_name("trial kind", name, KINDS)
    return KINDS[name]


def from_dataclass(
    cls: type,
    run: Callable[[Config], dict[str, Any]],
    label: Callable[[dict[str, Any], bool], str] | None = None,
) -> TrialKind:
    """A kind whose settings are the fields of the frozen dataclass ``cls`` (validated in its
    ``__post_init__``); tuples become lists, as the config reads back from JSON."""

    def check(settings: dict[str, Any]) -> dict[str, Any]:
        filled = dataclasses.asdict(cls(**settings))
        return {k: list(v) if isinstance(v, tuple) else v for k, v in filled.items()}

    fields = tuple(f.name for f in dataclasses.fields(cls))
    doc = inspect.getdoc(cls) or ""
    return TrialKind(run=run, settings=fields, check=check, label=label, doc=doc)


def label(config: Config, with_lam: bool = True) -> str:
    """The method name of a trial of a registered kind."""
    kind = config["model"]["kind"]
    how = get(kind).label
    if how is None:
        return kind.replace("_", " ")
    return how({k: v for k, v in config["model"].items() if k != "kind"}, with_lam)


def _builtin() -> None:
    from ..baselines import BASELINES, LABELS
    from ..clustering import datasets
    from ..clustering import study as clustering
    from ..networks import endtoend, lowrank, sparsity
    from .baseline_kind import check_baseline, run_baseline, settings_of

    for name in BASELINES:
        register(
            name,
            TrialKind(
                run=partial(run_baseline, name),
                settings=settings_of(name),
                check=partial(check_baseline, name),
                sections=("problem",),
                doc=inspect.getdoc(BASELINES[name]) or "",
                label=LABELS.get(name),
            ),
        )
    register("mlp_prune", from_dataclass(sparsity.PruneSettings, sparsity.run, sparsity.label))
    register("mlp_lowrank", from_dataclass(lowrank.LowRankSettings, lowrank.run, lowrank.label))
    register("deep_linear", from_dataclass(endtoend.LinearSettings, endtoend.run, endtoend.label))
    clustering_kind = from_dataclass(
        clustering.ClusteringSettings, clustering.run, clustering.label
    )
    register(
        "convex_clustering",
        dataclasses.replace(
            clustering_kind,
            sections=("problem",),
            problem=datasets.check_dataset,
            timings=clustering.TIMINGS,
        ),
    )


_builtin()

__all__ = ["KINDS", "TrialKind", "from_dataclass", "get", "label", "register"]
