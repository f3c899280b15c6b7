"""The convex and iterative baselines (:mod:`algoreg.baselines`) as trial kinds: their
settings are the solver's keyword parameters, checked at load; a trial solves its problem."""

from __future__ import annotations

import inspect
from typing import Any

from ..metrics.dynamics import early_stopping_metrics
from .trial_problem import build_problem

INTERNAL = ("seed", "blas_threads")  # not settings of a study file


def settings_of(kind: str) -> tuple[str, ...]:
    """The ``[model]`` keys of baseline ``kind``."""
    from ..baselines import parameters

    return tuple(k for k in parameters(kind) if k not in INTERNAL)


def check_baseline(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with the solver's defaults filled in, checked as its solve will check them
    (the values as given: trial ids do not change)."""
    from ..baselines import check_settings, parameters

    defaults = {k: v for k, v in parameters(kind).items() if k not in INTERNAL}
    filled = {k: v for k, v in defaults.items() if v is not inspect.Parameter.empty}
    check_settings(kind, {**filled, **settings})
    return {**filled, **settings}


def run_baseline(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Solve the trial's problem with baseline ``kind``; its early-stopping metrics are its
    final ones (a convex solution has no path to stop on)."""
    from ..baselines import solve

    params = {k: v for k, v in config["model"].items() if k != "kind"}
    result = solve(build_problem(config), kind, **params)
    result.metrics.update(early_stopping_metrics(result.history, result.metrics, result.steps))
    return {
        "metrics": result.metrics,
        "history": result.history,
        "status": result.status,
        "steps": result.steps,
    }


__all__ = ["check_baseline", "run_baseline", "settings_of"]
