"""Training-dynamics checks computed from logged histories."""

from __future__ import annotations

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
