"""Baselines sharing the "problem in, FitResult out" contract of :func:`algoreg.fit`.

``solve(problem, "nuclear_norm", lam=0.1)`` dispatches by name through :data:`BASELINES`, as a
study file's ``model.kind`` does: ``"nuclear_norm" | "soft_impute" | "svt" | "hard_impute"``
for completion (and sensing), and for ratings problems ``"bias_model"`` (user/item biases),
``"biased_mf"`` (biased MF by ALS, tuned on the validation ratings) and ``"surprise"``
(scikit-surprise's SVD / SVD++, an optional dependency).
Every baseline also takes ``seed`` (recorded in the result; the methods are deterministic) and
``blas_threads`` (BLAS threads during the solve, default 1 as in :func:`algoreg.fit`). cvxpy
(needed by ``nuclear_norm`` only) is imported when a solve runs, not with the package.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..engine import FitResult
from ..errors import ConfigError, unknown_name
from ..problems import Problem
from .base import SolverError
from .biased_mf import biased_mf, check_biased_mf
from .nuclear import check_nuclear_norm, nuclear_norm
from .recommender import (
    bias_model,
    check_bias_model,
    check_surprise,
    surprise_label,
    surprise_model,
)
from .soft_impute import (
    check_hard_impute,
    check_soft_impute,
    check_svt,
    hard_impute,
    lambda_max,
    soft_impute,
    svt,
)

BASELINES: dict[str, Callable[..., FitResult]] = {
    "nuclear_norm": nuclear_norm,
    "soft_impute": soft_impute,
    "svt": svt,
    "hard_impute": hard_impute,
    "bias_model": bias_model,
    "biased_mf": biased_mf,
    "surprise": surprise_model,
}


# kind -> its settings' checker (no problem needed): what a study file is checked with at load
CHECKS: dict[str, Callable[..., dict[str, Any]]] = {
    "nuclear_norm": check_nuclear_norm,
    "soft_impute": check_soft_impute,
    "svt": check_svt,
    "hard_impute": check_hard_impute,
    "bias_model": check_bias_model,
    "biased_mf": check_biased_mf,
    "surprise": check_surprise,
}

# the baselines that need a ratings problem (a RatingsProblem: train, validation and test
# ratings); the others take any completion problem
RATINGS_ONLY = ("bias_model", "biased_mf", "surprise")

# kind -> its method label in tables (default: the kind's name); settings with defaults filled
LABELS: dict[str, Callable[[dict[str, Any], bool], str]] = {
    "bias_model": lambda settings, with_lam: "bias model",
    "biased_mf": lambda s, with_lam: "biased MF (ALS" + ("-WR)" if s["weighted"] else ")"),
    "surprise": surprise_label,
}


def check_settings(kind: str, params: dict[str, Any]) -> None:
    """Check baseline ``kind``'s settings ``params`` (all but ``seed`` and ``blas_threads``,
    defaults filled in) as its solve will, without a problem: a :class:`ConfigError` naming
    the setting, before any trial runs."""
    missing = [n for n, d in parameters(kind).items() if d is inspect.Parameter.empty]
    missing = [n for n in missing if n not in params]
    if missing:
        raise ConfigError(f"baseline {kind!r} requires {', '.join(missing)}")
    CHECKS[kind](**params, seed=0)


def parameters(kind: str) -> dict[str, Any]:
    """The parameters of baseline ``kind`` with their defaults (``inspect.Parameter.empty`` if
    required)."""
    if kind not in BASELINES:
        raise unknown_name("baseline", kind, BASELINES)
    sig = inspect.signature(BASELINES[kind])
    return {n: p.default for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}


def solve(problem: Problem, kind: str, **params: Any) -> FitResult:
    """Run baseline ``kind`` on ``problem`` with keyword ``params`` (validated by name)."""
    allowed = parameters(kind)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown parameter(s) {unknown} for baseline {kind!r}; allowed: {sorted(allowed)}"
        )
    missing = sorted(
        n for n, d in allowed.items() if d is inspect.Parameter.empty and n not in params
    )
    if missing:
        raise ConfigError(f"baseline {kind!r} requires parameter(s) {missing}")
    return BASELINES[kind](problem, **params)


__all__ = [
    "BASELINES",
    "CHECKS",
    "LABELS",
    "RATINGS_ONLY",
    "SolverError",
    "check_settings",
    "hard_impute",
    "lambda_max",
    "nuclear_norm",
    "parameters",
    "soft_impute",
    "solve",
    "svt",
]
