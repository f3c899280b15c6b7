"""Convex clustering inputs: data checks, CSV reading, Gaussian k-NN weights and D."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from algoreg.clustering.data import check_data, preprocess, read_csv
from algoreg.clustering.weights import (
    PHI_GRID,
    gaussian_knn_weights,
    graph_from_matrix,
    is_connected,
)
from algoreg.errors import ConfigError


def two_groups(seed=0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(0, 0.1, (8, 2)), rng.normal(5, 0.1, (8, 2))])


def test_check_data_errors_name_the_problem():
    X = np.ones((4, 2))
    X[2] = np.nan
    with pytest.raises(ConfigError, match=r"entirely missing \(NaN\).*\[2\]"):
        check_data(X)
    X[2] = [1.0, np.nan]
    with pytest.raises(ConfigError, match=r"missing.*row 2, column 1"):
        check_data(X)
    with pytest.raises(ConfigError, match=r"at least 2 observations.*1 sample"):
        check_data(np.ones((1, 3)))
    with pytest.raises(ConfigError, match="inf"):
        check_data([[1.0, np.inf], [0.0, 0.0]])
    with pytest.raises(ConfigError, match="numeric"):
        check_data([["a", "b"], ["c", "d"]])
    with pytest.raises(ConfigError, match="2-D"):
        check_data(np.ones(5))


def test_read_csv_numbers_missing_and_non_numeric(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("a,b\n1,2\n3,NA\n")
    X, names = read_csv(good)
    assert names == ["a", "b"]
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, np.nan]])
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,four\n")
    with pytest.raises(ConfigError, match=r"bad.csv: line 3, column 'b': 'four' is not a number"):
        read_csv(bad)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2,3\n")
    with pytest.raises(ConfigError, match="line 2 has 3 fields"):
        read_csv(ragged)


def test_preprocess_centers_and_scales_columns():
    X = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 50.0]])
    np.testing.assert_allclose(preprocess(X).mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(preprocess(X, scale=True).std(axis=0, ddof=1), 1.0)
    np.testing.assert_array_equal(preprocess(X, center=False), X)


def test_phi_maximizes_the_weight_variance_over_the_grid():
    X = two_groups()
    g = gaussian_knn_weights(X, k=None)
    sq = pdist(X, "sqeuclidean")
    best = max(PHI_GRID, key=lambda phi: np.var(np.exp(-phi * sq)))
    assert g.phi == best
    np.testing.assert_allclose(g.weights, np.exp(-best * sq))  # dense: every pair, in order


def test_auto_k_is_the_smallest_connected_symmetrized_knn_graph():
    X = two_groups()
    g = gaussian_knn_weights(X)
    assert is_connected(len(X), g.edges)
    assert g.k == 8  # each group has 8 points: the 8-NN graph is the first to bridge them
    with pytest.raises(ConfigError, match=r"k=7 .*disconnected.*smallest k that connects it is 8"):
        gaussian_knn_weights(X, k=7)
    # symmetrized: (i, j) kept when either is among the other's k nearest
    g1 = gaussian_knn_weights(np.array([[0.0], [1.0], [1.5], [10.0]]), k=1)
    assert sorted(map(tuple, g1.edges.tolist())) == [(0, 1), (1, 2), (2, 3)]


def test_bad_weight_parameters_raise():
    X = two_groups()
    with pytest.raises(ConfigError, match="phi"):
        gaussian_knn_weights(X, phi=-1.0)
    with pytest.raises(ConfigError, match="k must be"):
        gaussian_knn_weights(X, k="many")
    with pytest.raises(ConfigError, match="phi=1e\\+06 underflows"):
        gaussian_knn_weights(X, phi=1e6, k=None)


def test_user_weights_and_the_difference_matrix():
    W = np.array([[0, 1, 0, 0], [1, 0, 2, 0], [0, 2, 0, 3], [0, 0, 3, 0]], dtype=float)
    g = graph_from_matrix(W, 4)
    assert g.edges.tolist() == [[0, 1], [1, 2], [2, 3]]
    np.testing.assert_array_equal(g.weights, [1, 2, 3])
    D = g.difference_matrix()
    U = np.arange(8.0).reshape(4, 2) ** 2
    np.testing.assert_array_equal(D @ U, U[g.edges[:, 0]] - U[g.edges[:, 1]])
    L = (D.T @ D).toarray()  # the unweighted graph Laplacian
    np.testing.assert_array_equal(L, np.diag((W > 0).sum(1)) - (W > 0))
    W[2, 3] = W[3, 2] = 0
    with pytest.raises(ConfigError, match="disconnected"):
        graph_from_matrix(W, 4)
    W[0, 1] = 5
    with pytest.raises(ConfigError, match="symmetric"):
        graph_from_matrix(W, 4)
    with pytest.raises(ConfigError, match=r"\(3, 3\)"):
        graph_from_matrix(np.ones((4, 4)), 3)
