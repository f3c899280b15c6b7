"""Arora et al. (2019, Thm 3): for a linear depth-N factorization started balanced, gradient
flow moves each singular value of the end-to-end matrix as
dσ_r/dt = −N (σ_r²)^{1−1/N} ⟨∇ℓ(W), u_r v_rᵀ⟩. Small-step gradient descent (t = lr·steps)
must follow it."""

import numpy as np
import pytest

import algoreg as ar


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_singular_values_follow_the_gradient_flow_formula(depth):
    p = ar.problems.completion((12, 10), 2, 90, seed=3)
    lr, every = 0.05, 5
    model = ar.models.factorization(depth, init="balanced", init_scale=0.5)
    r = ar.fit(
        p,
        model,
        optimizer=ar.optim.gd(lr),
        max_steps=4000,
        log_every=every,
        dtype="float64",
        log_flow=True,
    )
    s = r.history["singular_values"]
    assert np.abs(np.diff(s[:, :2], axis=0)).max() / (lr * every) > 0.1  # they really move
    agreement = ar.metrics.flow_agreement(r.history, lr, top=2)
    assert agreement["flow_err_median"] < 0.01 and agreement["flow_err_max"] < 0.05
    # a wrong time scale (t = 2·lr·steps) is detected
    assert ar.metrics.flow_agreement(r.history, 2 * lr, top=2)["flow_err_max"] > 0.3
    # gradient flow conserves balancedness; discrete steps drift by O(lr)
    assert r.history["balancedness"].max() < 0.02
