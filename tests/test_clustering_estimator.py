"""ConvexClustering: scikit-learn's estimator checks, cuts, errors, lazy export."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy.cluster.hierarchy import dendrogram
from sklearn.utils.estimator_checks import estimator_checks_generator

from algoreg.clustering import ConvexClustering
from algoreg.errors import ConfigError


def _name(check):
    while hasattr(check, "func"):
        check = check.func
    return check.__name__


@pytest.mark.parametrize(
    ("estimator", "check"),
    [
        pytest.param(e, c, id=_name(c))
        for e, c in estimator_checks_generator(ConvexClustering(), mark="skip")
    ],
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, 0.4, (12, 3)) for c in ((0, 0, 0), (4, 0, 0), (0, 4, 4))])
    return X, np.repeat(np.arange(3), 12)


@pytest.mark.parametrize("method", ["carp", "carp-viz", "exact"])
def test_fit_labels_linkage_and_cut_height(method):
    X, truth = blobs()
    est = ConvexClustering(n_clusters=3, method=method, tol=1e-5).fit(X)
    assert est.n_clusters_ == 3 and est.labels_.tolist() == truth.tolist()
    assert est.linkage_.shape == (len(X) - 1, 4) and est.n_iter_ > 0
    assert len(dendrogram(est.linkage_, no_plot=True)["leaves"]) == len(X)
    h = est.linkage_[-3, 2]  # the height of the merge that leaves 3 clusters
    by_height = ConvexClustering(n_clusters=None, distance_threshold=h, method=method, tol=1e-5)
    assert by_height.fit_predict(X).tolist() == est.labels_.tolist()


def test_fit_with_given_weights_and_scaling():
    X, truth = blobs(1)
    W = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1))
    est = ConvexClustering(n_clusters=3, weights=W, scale=True, q=1).fit(X)
    assert est.labels_.tolist() == truth.tolist() and est.graph_.k is None


def test_bad_input_and_parameters_raise_config_errors_naming_them():
    X, _ = blobs()
    with pytest.raises(ConfigError, match="exactly one of n_clusters and distance_threshold"):
        ConvexClustering(n_clusters=2, distance_threshold=1.0).fit(X)
    with pytest.raises(ConfigError, match="n_clusters must be <= 36"):
        ConvexClustering(n_clusters=40).fit(X)
    with pytest.raises(ConfigError, match=r"t must be > 1"):
        ConvexClustering(t=1.0).fit(X)
    with pytest.raises(ConfigError, match="method must be one of"):
        ConvexClustering(method="carpviz").fit(X)
    with pytest.raises(ConfigError, match=r"k=1 nearest neighbours give a disconnected"):
        ConvexClustering(k=1).fit(X)
    Xnan = X.copy()
    Xnan[5] = np.nan
    with pytest.raises(ConfigError, match=r"entirely missing \(NaN\)"):
        ConvexClustering().fit(Xnan)
    with pytest.raises(ConfigError, match="at least 2 observations"):
        ConvexClustering(n_clusters=1).fit(X[:1])


def test_importing_the_subpackage_is_lazy():
    code = (
        "import sys, algoreg.clustering as c; seen = lambda: print('sklearn' in sys.modules); "
        "seen(); c.carp; seen(); c.ConvexClustering; seen()"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", "False", "True"]
