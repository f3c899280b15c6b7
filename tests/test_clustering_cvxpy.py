"""Cross-check against cvxpy (the ``baselines`` extra; skipped without it): on a tiny instance
the exact ADMM matches cvxpy's convex clustering solutions, and CARP's iterates approach them
as t → 1 (measured at t = 1.1, 1.05, 1.01 at the levels where 20, 40, 60, 80% of the merges
have happened; on this instance the worst relative errors are about 0.058, 0.037, 0.009)."""

import numpy as np
import pytest

from algoreg.clustering import carp, gaussian_knn_weights, preprocess
from algoreg.clustering.admm import Splitting, admm_solve

cp = pytest.importorskip("cvxpy")


def tiny():
    """12 points: three 2-D blobs of 4 (sd 0.4, centers about 3 apart), centered."""
    rng = np.random.default_rng(0)
    centers = [(0.0, 0.0), (3.0, 0.0), (1.5, 2.5)]
    return preprocess(np.vstack([rng.normal(c, 0.4, (4, 2)) for c in centers]))


def cvxpy_solution(X, graph, gamma):
    U = cp.Variable(X.shape)
    diffs = U[graph.edges[:, 0]] - U[graph.edges[:, 1]]
    pen = cp.sum(cp.multiply(graph.weights, cp.norm(diffs, 2, axis=1)))
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(U - X) + gamma * pen)).solve()
    return U.value


def test_exact_admm_matches_cvxpy_and_carp_approaches_it_as_t_goes_to_one():
    X = tiny()
    graph = gaussian_knn_weights(X)
    split = Splitting(X, graph)
    worst = {}
    for t in (1.1, 1.05, 1.01):
        path = carp(X, graph, t=t)
        done = np.cumsum(path.merges)
        wanted = np.array([0.2, 0.4, 0.6, 0.8]) * (len(X) - 1)
        picks = sorted({int(i) for i in np.searchsorted(done, wanted)})
        assert len(picks) >= 3
        errors = []
        for k in picks:
            gamma = float(path.gammas[k])
            reference = cvxpy_solution(X, graph, gamma)
            (U, _, _), _, _, converged = admm_solve(split, gamma, tol=1e-10)
            assert converged
            np.testing.assert_allclose(U, reference, atol=1e-4)  # interior point: ~1e-5
            errors.append(np.linalg.norm(path.U[k] - reference) / np.linalg.norm(X))
        worst[t] = max(errors)
    assert worst[1.1] < 0.1  # within a few percent already at t = 1.1
    assert worst[1.05] < 0.8 * worst[1.1]
    assert worst[1.01] < 0.5 * worst[1.05]
    assert worst[1.01] < 0.02
