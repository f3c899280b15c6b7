"""CARP, CARP-VIZ and the exact path: recovery, the linkage, agreement with exact ADMM."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import dendrogram, is_valid_linkage

from algoreg.clustering.admm import Splitting, admm_solve
from algoreg.clustering.data import check_data, preprocess, read_csv
from algoreg.clustering.path import carp, exact_path
from algoreg.clustering.weights import gaussian_knn_weights
from algoreg.errors import ConfigError, ConvergenceWarning

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clustering"


def blobs(seed=0, size=15, sd=0.5):
    """Three well-separated 2-D Gaussian blobs (centers 5 apart, sd 0.5), centered."""
    rng = np.random.default_rng(seed)
    centers = [(0.0, 0.0), (5.0, 0.0), (2.5, 4.0)]
    X = np.vstack([rng.normal(c, sd, (size, 2)) for c in centers])
    return preprocess(X), np.repeat(np.arange(3), size)


def same_partition(a, b):
    """Whether two labelings define the same partition (adjusted Rand index 1)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def run(method, X, graph, **kw):
    if method == "exact":
        return exact_path(X, graph, tol=1e-5, **kw)
    return carp(X, graph, back_track=method == "carp-viz", **kw)


@pytest.mark.parametrize("method", ["carp", "carp-viz", "exact"])
@pytest.mark.parametrize("q", [2, 1])
def test_every_method_recovers_well_separated_blobs(method, q):
    X, truth = blobs()
    path = run(method, X, gaussian_knn_weights(X), q=q)
    assert same_partition(path.cut(3), truth)


@pytest.mark.skipif(not (DATA / "blobs.csv").exists(), reason="shared clustering data absent")
@pytest.mark.parametrize("method", ["carp", "carp-viz", "exact"])
def test_the_blobs_file_three_cluster_cut_is_exact(method):
    X = preprocess(check_data(read_csv(DATA / "blobs.csv")[0]))
    truth = read_csv(DATA / "blobs_labels.csv")[0][:, 0]
    path = run(method, X, gaussian_knn_weights(X))
    assert same_partition(path.cut(3), truth)
    if method == "carp":
        assert path.n_iter == 410  # clustRviz's count at the same defaults (quoted in issue 28)


@pytest.mark.parametrize("method", ["carp", "carp-viz", "exact"])
def test_the_linkage_is_a_valid_scipy_hierarchy(method):
    X, _ = blobs(seed=1)
    n = len(X)
    path = run(method, X, gaussian_knn_weights(X))
    Z = path.linkage
    assert Z.shape == (n - 1, 4) and is_valid_linkage(Z)
    assert np.all(np.diff(Z[:, 2]) >= 0) and Z[-1, 3] == n
    assert sorted(dendrogram(Z, no_plot=True)["leaves"]) == list(range(n))
    for k in range(1, n + 1):
        assert len(np.unique(path.cut(k))) == k
    assert len(np.unique(path.cut(height=Z[-2, 2] * (1 - 1e-12)))) >= 2
    np.testing.assert_array_equal(path.cut(height=Z[-1, 2]), 0)
    assert path.merges.sum() == n - 1 and path.gammas[0] == 0 and np.all(np.diff(path.gammas) >= 0)
    np.testing.assert_array_equal(path.U[0], X)
    # the raw partition of each kept iterate refines the hierarchy's cut at its γ
    for k in range(len(path.gammas)):
        assert same_partition(
            path.clusters(k),
            np.array(
                [
                    f"{a}-{b}"
                    for a, b in zip(path.clusters(k), path.cut(height=path.gammas[k]), strict=True)
                ]
            ),
        )


def test_carp_viz_merges_one_pair_per_kept_step_unless_the_step_lags():
    X, _ = blobs(seed=2)
    viz = carp(X, gaussian_knn_weights(X), back_track=True)
    assert np.all(viz.merges[1:] >= 1)  # only merging steps are kept
    assert np.mean(viz.merges[1:] == 1) >= 0.6
    plain = carp(X, gaussian_knn_weights(X))
    assert np.mean(viz.merges[1:] == 1) > np.mean(plain.merges[plain.merges > 0] == 1)


def test_carp_agrees_with_exact_admm_and_better_as_t_decreases():
    X, _ = blobs()
    graph = gaussian_knn_weights(X)
    split = Splitting(X, graph)
    worst = {}
    for t in (1.1, 1.05, 1.01):
        path = carp(X, graph, t=t)
        errors = []
        for frac in (0.02, 0.1, 0.3, 0.6):  # kept levels spread over the path
            k = int(np.searchsorted(path.gammas, frac * path.gammas[-1]))
            (U, _, _), _, _, converged = admm_solve(split, path.gammas[k], tol=1e-9)
            assert converged
            errors.append(np.linalg.norm(path.U[k] - U) / np.linalg.norm(X))
        worst[t] = max(errors)
    assert worst[1.05] < 0.05  # a few percent at the default t
    assert worst[1.01] < worst[1.05] < worst[1.1]
    assert worst[1.01] < 0.01


def test_path_parameters_are_checked():
    X, _ = blobs()
    graph = gaussian_knn_weights(X)
    for t in (1.0, 0.9):
        with pytest.raises(ConfigError, match=r"t must be > 1 \(the factor"):
            carp(X, graph, t=t)
        with pytest.raises(ConfigError, match="t must be > 1"):
            exact_path(X, graph, t=t)
    with pytest.raises(ConfigError, match="epsilon must be >"):
        carp(X, graph, epsilon=0.0)
    with pytest.raises(ConfigError, match="burn_in must be >= 0"):
        carp(X, graph, burn_in=-1)


def test_a_path_stopped_early_warns_and_still_gives_a_full_hierarchy():
    X, _ = blobs()
    graph = gaussian_knn_weights(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = carp(X, graph, max_iter=60)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert path.n_iter == 60 and is_valid_linkage(path.linkage)
    assert len(path.linkage) == len(X) - 1
