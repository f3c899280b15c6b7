"""The convex clustering ADMM: prox steps against closed forms, cached factorizations, and
the converged solution against cvxpy."""

import numpy as np
import pytest

from algoreg.clustering import admm
from algoreg.clustering.admm import (
    Splitting,
    admm_solve,
    fusion_norms,
    group_soft_threshold,
    soft_threshold,
)
from algoreg.clustering.weights import gaussian_knn_weights, graph_from_matrix
from algoreg.errors import ConfigError


def test_group_soft_threshold_closed_form():
    A = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0], [-6.0, 8.0]])
    tau = np.array([1.0, 1.0, 1.0, 5.0])
    V = group_soft_threshold(A, tau)
    np.testing.assert_allclose(V, [[2.4, 3.2], [0, 0], [0, 0], [-3.0, 4.0]])
    # the prox's optimality condition: A − V ∈ τ ∂‖V‖₂ (= τ V/‖V‖ where V ≠ 0)
    for a, v, t in zip(A, V, tau, strict=True):
        if np.linalg.norm(v) > 0:
            np.testing.assert_allclose(a - v, t * v / np.linalg.norm(v))
        else:
            assert np.linalg.norm(a) <= t


def test_soft_threshold_closed_form_and_fusion_norms():
    A = np.array([[3.0, -0.5, -2.0], [0.2, -0.1, 0.0]])
    V = soft_threshold(A, np.array([1.0, 0.5]))
    np.testing.assert_allclose(V, [[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(fusion_norms(A, 2), np.linalg.norm(A, axis=1))
    np.testing.assert_allclose(fusion_norms(A, 1), [3.0, 0.2])


def test_shrink_matches_the_prox_and_the_critical_levels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    g = gaussian_knn_weights(X)
    for q, prox in [(2, group_soft_threshold), (1, soft_threshold)]:
        split = Splitting(X, g, q=q, rho=2.0)
        _, V, Z = split.start()
        _, A, crit = split.forward(V + 0.1, Z - 0.05)
        gamma = float(np.median(crit))
        V, Z = split.shrink(A, crit, gamma)
        np.testing.assert_allclose(V, prox(A, gamma * g.weights / 2.0), atol=1e-14)
        np.testing.assert_array_equal(~V.any(axis=1), crit <= gamma)
        np.testing.assert_allclose(Z, A - V)


def test_dense_and_sparse_factorizations_agree(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    g = gaussian_knn_weights(X)
    dense = Splitting(X, g, rho=1.5)
    monkeypatch.setattr(admm, "DENSE_MAX", 10)
    sparse = Splitting(X, g, rho=1.5)
    R = rng.normal(size=(30, 4))
    np.testing.assert_allclose(dense.solve(R), sparse.solve(R), rtol=1e-12)
    L = np.eye(30) + 1.5 * (dense.Dt @ dense.D).toarray()
    np.testing.assert_allclose(L @ dense.solve(R), R, atol=1e-12)


def test_bad_splitting_parameters():
    X = np.random.default_rng(2).normal(size=(5, 2))
    g = gaussian_knn_weights(X)
    with pytest.raises(ConfigError, match="q must be one of"):
        Splitting(X, g, q=3)
    with pytest.raises(ConfigError, match="rho must be >"):
        Splitting(X, g, rho=0.0)


@pytest.mark.parametrize("q", [2, 1])
def test_exact_admm_agrees_with_cvxpy(q):
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 0.3, (4, 2)), rng.normal(2, 0.3, (3, 2))])
    W = np.exp(-0.5 * ((X[:, None] - X[None]) ** 2).sum(-1))
    np.fill_diagonal(W, 0)
    g = graph_from_matrix(W, len(X))
    split = Splitting(X, g, q=q)
    for gamma in [0.05, 0.3, 1.0]:
        (U, _, _), _, _, converged = admm_solve(split, gamma, tol=1e-10)
        assert converged
        Uc = cp.Variable(X.shape)
        diffs = Uc[g.edges[:, 0]] - Uc[g.edges[:, 1]]
        pen = cp.sum(cp.multiply(g.weights, cp.norm(diffs, q, axis=1)))
        cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Uc - X) + gamma * pen)).solve()
        np.testing.assert_allclose(U, Uc.value, atol=1e-4)  # interior point: ~1e-5
        assert split.objective(U, gamma) <= split.objective(Uc.value, gamma) + 1e-8
