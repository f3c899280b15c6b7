"""Training-dynamics checks computed from logged histories."""

from __future__ import annotations

from typing import Any

import numpy as np


def flow_agreement(
    history: dict[str, np.ndarray], learning_rate: float, top: int = 5
) -> dict[str, float]:
    """How well logged singular values follow the gradient-flow formula of Arora et al. (2019).

    The measured rate is the finite difference (σ_r(t_{k+1}) − σ_r(t_k)) / (lr·Δsteps) between
    log points (time t = lr·steps); the prediction is the trapezoid mean of the logged
    ``sv_flow_rate`` = −N (σ_r²)^{1−1/N} ⟨∇ℓ(W), u_r v_rᵀ⟩ at both ends. For each of the
    ``top`` singular values the discrepancy is taken relative to that value's largest measured
    rate (rates cross zero along the way). Returns the median and the maximum over intervals
    and singular values (NaN without a ``sv_flow_rate`` history).
    """
    if "sv_flow_rate" not in history or len(history.get("step", ())) < 2:
        return {"flow_err_median": float("nan"), "flow_err_max": float("nan")}
    s = np.asarray(history["singular_values"])[:, :top]
    rate = np.asarray(history["sv_flow_rate"])[:, :top]
    dt = learning_rate * np.diff(np.asarray(history["step"], dtype=float))[:, None]
    measured = np.diff(s, axis=0) / dt
    predicted = 0.5 * (rate[1:] + rate[:-1])
    scale = np.abs(measured).max(axis=0)
    keep = scale > 0
    err = np.abs(measured - predicted)[:, keep] / scale[keep]
    if err.size == 0:
        return {"flow_err_median": float("nan"), "flow_err_max": float("nan")}
    return {"flow_err_median": float(np.median(err)), "flow_err_max": float(err.max())}


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
