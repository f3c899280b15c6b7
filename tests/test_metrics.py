import numpy as np
import pytest

import algoreg as ar


def test_effective_rank_closed_forms():
    assert float(ar.metrics.effective_rank(np.diag([3.0, 3.0, 3.0, 0.0]))) == pytest.approx(3.0)
    assert float(ar.metrics.effective_rank(np.outer([1.0, 2.0], [3.0, 1.0]))) == pytest.approx(1.0)
    s = np.array([2.0, 1.0])
    q = s / s.sum()
    expected = np.exp(-(q * np.log(q)).sum())
    assert float(ar.metrics.effective_rank(np.diag(s))) == pytest.approx(expected, rel=1e-6)
    assert float(ar.metrics.effective_rank(np.zeros((3, 3)))) == 0.0


def test_numerical_rank():
    W = ar.problems.low_rank((30, 20), 4, seed=0)
    assert int(ar.metrics.numerical_rank(W)) == 4
    assert int(ar.metrics.numerical_rank(W + 1e-3 * np.eye(30, 20), rtol=1e-6)) == 20


def test_balancedness_closed_form():
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    b = np.array([[1.0, 0.0], [0.0, 1.0]])
    # W_2ᵀW_2 − W_1W_1ᵀ = I − diag(1, 4) → Frobenius norm 3
    assert float(ar.metrics.balancedness([a, b])) == pytest.approx(3.0)
    assert float(ar.metrics.balancedness([a])) == 0.0
