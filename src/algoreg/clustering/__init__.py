"""Convex clustering paths by algorithmic regularization (Weylandt, Nagorski & Allen 2020).

>>> import numpy as np
>>> from algoreg.clustering import ConvexClustering, carp, gaussian_knn_weights, preprocess
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(center, 0.3, (10, 2)) for center in (0.0, 4.0, 8.0)])
>>> ConvexClustering(n_clusters=3).fit(X).labels_.tolist() == [0] * 10 + [1] * 10 + [2] * 10
True
>>> X0 = preprocess(X)
>>> path = carp(X0, gaussian_knn_weights(X0), t=1.05)  # also path.gammas, path.U
>>> path.linkage.shape, np.bincount(path.cut(3)).tolist()
((29, 4), [10, 10, 10])

Modules: :mod:`.data` (checks, centering, CSV), :mod:`.weights` (Gaussian k-NN weights and
D), :mod:`.admm` (the splitting, prox steps, exact solve), :mod:`.path` (CARP, CARP-VIZ,
exact path), :mod:`.bicluster` (CBASS: convex biclustering, missing entries), :mod:`.tree`
(merges, linkage, cuts), :mod:`.estimator` (scikit-learn style), :mod:`.compare` (distance to
the exact solutions), :mod:`.datasets` and :mod:`.study` (the study trial kind
``convex_clustering``), :mod:`.figures` (dendrogram, path on the principal components, the
biclustering heat map; ``algoreg cluster``), :mod:`.pathview` (the dynamic path view: a
self-contained HTML slider along γ).
Names load on first use: ``ConvexClustering`` and ``ConvexBiclustering`` need scikit-learn
(``algoreg[sklearn]``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ConvexClustering": "estimator",
    "ConvexBiclustering": "estimator",
    "BiclusterPath": "bicluster",
    "bicluster_path": "bicluster",
    "balanced_weights": "bicluster",
    "path_view_html": "pathview",
    "path_view_fragment": "pathview",
    "ClusterPath": "path",
    "carp": "path",
    "exact_path": "path",
    "admm_solve": "admm",
    "Splitting": "admm",
    "FusionGraph": "weights",
    "gaussian_knn_weights": "weights",
    "graph_from_matrix": "weights",
    "check_data": "data",
    "preprocess": "data",
    "read_csv": "data",
    "cut_linkage": "tree",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'algoreg.clustering' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
