"""CBASS (convex biclustering): recovery of a block matrix, agreement with the exact path and
with cvxpy, missing entries, the two linkages, the estimator, the heat map, bad input."""

from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import is_valid_linkage

from algoreg.clustering.bicluster import (
    BiSplitting,
    balanced_weights,
    bi_admm_solve,
    bicluster_path,
    bicluster_path_errors,
    center_global,
    fill_missing,
)
from algoreg.clustering.data import check_data, read_csv
from algoreg.clustering.datasets import adjusted_rand_index
from algoreg.clustering.weights import graph_from_matrix
from algoreg.errors import ConfigError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clustering"


def checkerboard(seed=0, row_sizes=(4, 4, 4), col_sizes=(5, 5), noise=0.15):
    """A block matrix (row groups × column groups, block means 3 apart at least) plus noise,
    rows and columns shuffled; returns (X centered, row labels, column labels)."""
    rng = np.random.default_rng(seed)
    means = np.array([[-3.0, 3.0], [3.0, 0.0], [0.0, -3.0]])[: len(row_sizes), : len(col_sizes)]
    rows = np.repeat(np.arange(len(row_sizes)), row_sizes)
    cols = np.repeat(np.arange(len(col_sizes)), col_sizes)
    rows, cols = rng.permutation(rows), rng.permutation(cols)
    X = means[rows][:, cols] + noise * rng.standard_normal((len(rows), len(cols)))
    return center_global(X), rows, cols


def fit(X, method="cbass", t=1.05, **kw):
    rows, cols = balanced_weights(fill_missing(X))
    if method == "exact":
        kw.setdefault("tol", 1e-6)
    return bicluster_path(X, rows, cols, method=method, t=t, **kw)


@pytest.mark.parametrize("method", ["cbass", "exact"])
def test_a_block_matrix_is_recovered_at_the_cut(method):
    X, rows, cols = checkerboard()
    path = fit(X, method, t=1.05 if method == "cbass" else 1.2)
    assert adjusted_rand_index(path.row_cut(3), rows) == 1.0
    assert adjusted_rand_index(path.col_cut(2), cols) == 1.0
    assert path.finished and path.gammas[0] == 0.0 and np.all(np.diff(path.gammas) > 0)
    np.testing.assert_array_equal(path.U[0], X)
    # at the end everything is fused: U is near the (zero) grand mean (CBASS's U lags its V)
    assert np.linalg.norm(path.U[-1]) < (0.05 if method == "cbass" else 1e-4) * np.linalg.norm(X)


@pytest.mark.parametrize("method", ["cbass", "exact"])
def test_both_linkages_are_valid_scipy_hierarchies(method):
    X, _, _ = checkerboard(seed=1, row_sizes=(3, 4, 2), col_sizes=(4, 3))
    path = fit(X, method, t=1.1 if method == "cbass" else 1.3)
    for Z, size, merges in (
        (path.row_linkage, X.shape[0], path.row_merges),
        (path.col_linkage, X.shape[1], path.col_merges),
    ):
        assert Z.shape == (size - 1, 4) and is_valid_linkage(Z)
        assert np.all(np.diff(Z[:, 2]) >= 0) and Z[-1, 3] == size
        assert merges.sum() == size - 1 and merges[0] == 0
    for k in range(1, X.shape[0] + 1):
        assert len(np.unique(path.row_cut(k))) == k
    # the kept iterate where the cuts first exist has at most that many clusters each
    lvl = path.level(3, 2)
    assert X.shape[0] - path.row_merges[: lvl + 1].sum() <= 3
    assert X.shape[1] - path.col_merges[: lvl + 1].sum() <= 2


def test_cbass_approaches_the_exact_solutions_as_t_goes_to_one():
    X, _, _ = checkerboard(seed=2, noise=0.6)
    worst = {t: bicluster_path_errors(fit(X, t=t), X)[1].max() for t in (1.1, 1.01)}
    assert worst[1.01] < 0.5 * worst[1.1]
    assert worst[1.01] < 0.02


def test_the_exact_path_agrees_with_cbass_cuts_and_each_level_is_optimal():
    X, _, _ = checkerboard(seed=3)
    exact = fit(X, "exact", t=1.2, tol=1e-8)
    cbass = fit(X, t=1.01)
    for k in (2, 3):
        assert adjusted_rand_index(exact.row_cut(k), cbass.row_cut(k)) == 1.0
    assert adjusted_rand_index(exact.col_cut(2), cbass.col_cut(2)) == 1.0
    split = BiSplitting(X, exact.rows, exact.cols)
    rng = np.random.default_rng(0)
    for k in range(1, len(exact.gammas), max(1, len(exact.gammas) // 4)):
        U, g = exact.U[k], exact.gammas[k]
        f = split.objective(U, g)
        for _ in range(5):  # no small perturbation lowers the objective
            assert f <= split.objective(U + 1e-3 * rng.standard_normal(U.shape), g) + 1e-9


@pytest.mark.parametrize("with_missing", [False, True])
def test_exact_admm_agrees_with_cvxpy(with_missing):
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(5)
    X = center_global(rng.normal(0, 1, (6, 5)) + np.array([[2.0]] * 3 + [[-2.0]] * 3))
    if with_missing:
        X[0, 1] = X[4, 3] = X[2, 0] = np.nan
    observed = ~np.isnan(X)
    Wr = np.exp(-0.2 * np.nansum((X[:, None] - X[None]) ** 2, -1))
    Wc = np.exp(-0.2 * np.nansum((X.T[:, None] - X.T[None]) ** 2, -1))
    np.fill_diagonal(Wr, 0)
    np.fill_diagonal(Wc, 0)
    rows, cols = graph_from_matrix(Wr, 6), graph_from_matrix(Wc, 5)
    split = BiSplitting(X, rows, cols)
    for gamma in (0.1, 0.5, 2.0):
        state, _, _, _, converged = bi_admm_solve(split, gamma, tol=1e-10, max_iter=200_000)
        assert converged
        U = cp.Variable(X.shape)
        pen = cp.sum(
            cp.multiply(rows.weights, cp.norm(U[rows.edges[:, 0]] - U[rows.edges[:, 1]], 2, 1))
        ) + cp.sum(
            cp.multiply(
                cols.weights, cp.norm(U[:, cols.edges[:, 0]] - U[:, cols.edges[:, 1]], 2, 0)
            )
        )
        fit_term = cp.sum_squares(cp.multiply(observed, U - np.nan_to_num(X)))
        cp.Problem(cp.Minimize(0.5 * fit_term + gamma * pen)).solve()
        np.testing.assert_allclose(state[0], U.value, atol=2e-4)
        assert split.objective(state[0], gamma) <= split.objective(U.value, gamma) + 1e-7


def test_missing_entries_are_imputed_and_the_biclusters_kept():
    X, rows, cols = checkerboard(seed=4, row_sizes=(5, 5, 5), col_sizes=(6, 6))
    rng = np.random.default_rng(1)
    holes = rng.random(X.shape) < 0.06
    Xm = X.copy()
    Xm[holes] = np.nan
    assert holes.sum() >= 5
    full, part = fit(X, t=1.02), fit(Xm, t=1.02)
    assert part.observed is not None and part.observed.sum() == X.size - holes.sum()
    for k in (2, 3):
        assert adjusted_rand_index(part.row_cut(k), full.row_cut(k)) == 1.0
    assert adjusted_rand_index(part.col_cut(2), full.col_cut(2)) == 1.0
    assert adjusted_rand_index(part.row_cut(3), rows) == 1.0
    # at the 3 × 2 level the imputed entries sit near their block's value (blocks 3 apart)
    lvl = part.level(3, 2)
    U = part.U[lvl]
    block = np.array([[U[rows == a][:, cols == b].mean() for b in range(2)] for a in range(3)])
    imputed = U[holes]
    truth = block[rows[np.nonzero(holes)[0]], cols[np.nonzero(holes)[1]]]
    assert np.max(np.abs(imputed - truth)) < 0.15
    # the starting fill is the additive row + column fill
    i, j = np.argwhere(holes)[0]
    want = np.nanmean(Xm[i]) + np.nanmean(Xm[:, j]) - np.nanmean(Xm)
    assert part.U[0][i, j] == pytest.approx(want)


def test_balanced_weights_sum_to_their_scales():
    X, _, _ = checkerboard()
    n, p = X.shape
    rows, cols = balanced_weights(X)
    assert rows.n == n and cols.n == p
    assert rows.weights.sum() == pytest.approx(1 / np.sqrt(n))
    assert cols.weights.sum() == pytest.approx(1 / np.sqrt(p))


def test_bad_input_is_a_config_error_naming_it():
    X, _, _ = checkerboard()
    rows, cols = balanced_weights(X)
    with pytest.raises(ConfigError, match=r"t must be > 1"):
        bicluster_path(X, rows, cols, t=1.0)
    with pytest.raises(ConfigError, match=r"method must be one of cbass, exact"):
        bicluster_path(X, rows, cols, method="carp-viz")
    with pytest.raises(ConfigError, match=r"row graph has 12 vertices .* X is 10 × 12"):
        bicluster_path(X.T, rows, cols)
    with pytest.raises(ConfigError, match="burn_in must be >= 0"):
        bicluster_path(X, rows, cols, burn_in=-1)
    Y = X.copy()
    Y[:, 3] = np.nan
    with pytest.raises(ConfigError, match=r"1 column\(s\) that are entirely missing"):
        check_data(Y, missing=True)
    Y = X.copy()
    Y[2] = np.nan
    with pytest.raises(ConfigError, match=r"row\(s\) that are entirely missing"):
        check_data(Y, missing=True)
    Y = X.copy()
    Y[2, 2] = np.nan
    with pytest.raises(ConfigError, match=r"impute them first \(or bicluster\)"):
        check_data(Y)
    Y[2, 2] = np.inf
    with pytest.raises(ConfigError, match="infinite entry"):
        check_data(Y, missing=True)


def test_the_estimator_fits_cuts_and_checks_its_parameters():
    pytest.importorskip("sklearn")
    from sklearn.base import clone

    from algoreg.clustering import ConvexBiclustering

    X, rows, cols = checkerboard(seed=6)
    X = X + 10.0  # the estimator centers
    est = ConvexBiclustering(3, 2, t=1.05).fit(X)
    assert adjusted_rand_index(est.row_labels_, rows) == 1.0
    assert adjusted_rand_index(est.column_labels_, cols) == 1.0
    assert est.row_linkage_.shape == (11, 4) and est.column_linkage_.shape == (9, 4)
    assert est.U_.shape == X.shape and est.n_features_in_ == 10 and est.n_iter_ > 0
    assert clone(est).get_params()["n_col_clusters"] == 2
    for bad, message in (
        ({"n_row_clusters": 13}, "n_row_clusters must be <= 12"),
        ({"n_col_clusters": 0}, "n_col_clusters must be >= 1"),
        ({"method": "carp"}, "method must be one of"),
        ({"t": 0.9}, "t must be > 1"),
    ):
        with pytest.raises(ConfigError, match=message):
            ConvexBiclustering(**bad).fit(X)
    with pytest.raises(ConfigError, match="at least 2 columns"):
        ConvexBiclustering().fit(X[:, :1])
    with pytest.raises(ConfigError, match="at least 2 observations"):
        ConvexBiclustering().fit(X[:1])
    with pytest.raises(ConfigError, match="numeric"):
        ConvexBiclustering().fit([["a", "b"], ["c", "d"]])


def test_heat_map_figure(tmp_path):
    pytest.importorskip("matplotlib")
    from algoreg.clustering.figures import heatmap_figure, linkage_figure

    X, _, _ = checkerboard()
    path = fit(X)
    names = [f"r{i}" for i in range(X.shape[0])]
    out = heatmap_figure(path, tmp_path / "h.png", n_row_clusters=3, row_names=names)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = linkage_figure(path.col_linkage, tmp_path / "c.png", n_clusters=2, what="columns")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(
    not (DATA / "presidential_speech.csv").is_file(), reason="shared clustering data absent"
)
def test_presidential_speech_cbass_path():
    X = center_global(check_data(read_csv(DATA / "presidential_speech.csv")[0]))
    rows, cols = balanced_weights(X)
    path = bicluster_path(X, rows, cols, t=1.05)
    assert path.finished and path.row_linkage.shape == (43, 4) and path.col_linkage.shape == (74, 4)
    assert bicluster_path_errors(path, X, fractions=(0.5,))[1].max() < 0.05
