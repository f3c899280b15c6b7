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
    s, rate = r.history["singular_values"], r.history["sv_flow_rate"]
    measured = np.diff(s[:, :2], axis=0) / (lr * every)
    predicted = 0.5 * (rate[1:, :2] + rate[:-1, :2])  # trapezoid over the interval
    # error relative to each singular value's largest rate (rates cross zero along the way)
    err = np.abs(measured - predicted) / np.abs(measured).max(axis=0)
    assert np.median(err) < 0.01 and err.max() < 0.05
    assert np.abs(measured).max() > 0.1  # the singular values really move
    # gradient flow conserves balancedness; discrete steps drift by O(lr)
    assert r.history["balancedness"].max() < 0.02
