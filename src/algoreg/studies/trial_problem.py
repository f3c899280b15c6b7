"""What a trial's config makes and what its history tells: the problem of a config's
``problem`` section, and validation-based early stopping read off a finished trial's logged
history (engine trials and convex baselines alike)."""

from __future__ import annotations

from typing import Any

import numpy as np


def build_problem(config: dict[str, Any]):
    """The problem of ``config["problem"]`` drawn with the trial's replicate ``seed``."""
    from ..problems import PROBLEMS

    params = dict(config["problem"])
    kind = params.pop("kind")
    params["shape"] = tuple(params["shape"])
    return PROBLEMS[kind][0](**params, seed=config["seed"])


def early_stopping_metrics(
    history: dict[str, Any], final: dict[str, float], steps: int
) -> dict[str, float]:
    """Validation-based early stopping read off the logged history: at the log point with the
    lowest ``val_error``, ``es_step`` and ``es_<metric>`` for each logged metric (e.g.
    ``es_val_error``, ``es_rmse``, ``es_test_error``). A run without a validation history but
    with a final ``val_error`` (a convex baseline) stops at its end: ``es_*`` = the ``final``
    metrics. Empty without any finite validation error."""
    val = np.asarray(history.get("val_error", []), dtype=float)
    if val.ndim != 1 or not np.isfinite(val).any():
        if not np.isfinite(final.get("val_error", np.nan)):
            return {}
        return {"es_step": float(steps), **{f"es_{k}": v for k, v in final.items()}}
    k = int(np.nanargmin(np.where(np.isfinite(val), val, np.nan)))
    out = {"es_step": float(history["step"][k])}
    for name, values in history.items():
        values = np.asarray(values)
        if name != "step" and values.ndim == 1 and values.shape == val.shape:
            out[f"es_{name}"] = float(values[k])
    return out


__all__ = ["build_problem", "early_stopping_metrics"]
