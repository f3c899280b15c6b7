"""A scikit-learn-style convex clustering estimator (needs the ``sklearn`` extra).

>>> import numpy as np
>>> from algoreg.clustering import ConvexClustering
>>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
>>> est = ConvexClustering(n_clusters=2).fit(X)
>>> est.labels_.tolist(), est.linkage_.shape  # scipy.cluster.hierarchy.dendrogram(est.linkage_)
([0, 0, 1, 1], (3, 4))
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from ..errors import ConfigError, check_bool, check_choice, check_int, check_real
from .bicluster import (
    BICLUSTER_METHODS,
    balanced_weights,
    bicluster_path,
    center_global,
    fill_missing,
)
from .data import check_data, preprocess
from .path import METHODS, ClusterPath, carp, exact_path
from .weights import FusionGraph, gaussian_knn_weights, graph_from_matrix


class ConvexClustering(ClusterMixin, BaseEstimator):
    """Convex clustering path of the rows of X by CARP, CARP-VIZ or exact ADMM.

    Minimizes ½‖U − X‖_F² + γ Σ_(i,j) w_ij ‖U_i − U_j‖_q along γ (see
    :mod:`algoreg.clustering.path`) and cuts the resulting hierarchy.

    Parameters
    ----------
    n_clusters : clusters of the cut (default 2); None when ``distance_threshold`` is given.
    distance_threshold : cut the hierarchy at this γ instead (merges at heights ≤ it).
    method : "carp" (one ADMM step per level), "carp-viz" (back-tracking: one merge per kept
        step) or "exact" (ADMM to convergence at each level).
    t : factor between levels, γ ← t·γ (> 1). epsilon : first level. burn_in : CARP steps at ε.
    q : 2 (row-wise fusion) or 1 (element-wise). rho : ADMM parameter ρ.
    phi, k : Gaussian kernel scale ("auto": maximize the weights' variance) and neighbours
        ("auto": the smallest connected k-NN graph; None: every pair).
    weights : a symmetric (n, n) nonnegative matrix used instead of phi and k.
    center, scale : column-center / scale X first (paper defaults: True, False).
    max_iter : limit on ADMM steps for the whole path. tol : the exact mode's tolerance.

    Attributes
    ----------
    labels_, n_clusters_, linkage_ (SciPy format, heights in γ), path_ (the
    :class:`~algoreg.clustering.path.ClusterPath`), graph_ (the fusion weights), n_iter_,
    n_features_in_.
    """

    def __init__(
        self,
        n_clusters: int | None = 2,
        *,
        distance_threshold: float | None = None,
        method: str = "carp",
        t: float = 1.05,
        q: int = 2,
        phi: float | str = "auto",
        k: int | str | None = "auto",
        weights: Any = None,
        center: bool = True,
        scale: bool = False,
        rho: float = 1.0,
        epsilon: float = 1e-6,
        burn_in: int = 50,
        max_iter: int = 1_000_000,
        tol: float = 1e-7,
    ):
        self.n_clusters = n_clusters
        self.distance_threshold = distance_threshold
        self.method = method
        self.t = t
        self.q = q
        self.phi = phi
        self.k = k
        self.weights = weights
        self.center = center
        self.scale = scale
        self.rho = rho
        self.epsilon = epsilon
        self.burn_in = burn_in
        self.max_iter = max_iter
        self.tol = tol

    def _graph(self, X: np.ndarray) -> FusionGraph:
        if self.weights is not None:
            return graph_from_matrix(self.weights, len(X))
        return gaussian_knn_weights(X, phi=self.phi, k=self.k)

    def _path(self, X: np.ndarray, graph: FusionGraph) -> ClusterPath:
        method = check_choice("method", self.method, METHODS)
        common: dict[str, Any] = {
            "t": self.t,
            "q": self.q,
            "rho": self.rho,
            "epsilon": self.epsilon,
        }
        if method == "exact":
            return exact_path(X, graph, tol=self.tol, max_iter=self.max_iter, **common)
        return carp(
            X,
            graph,
            burn_in=self.burn_in,
            back_track=method == "carp-viz",
            max_iter=self.max_iter,
            **common,
        )

    def fit(self, X: Any, y: Any = None) -> ConvexClustering:
        """Compute the path and cut it; ``y`` is ignored."""
        if (self.n_clusters is None) == (self.distance_threshold is None):
            raise ConfigError(
                "exactly one of n_clusters and distance_threshold must be None, got "
                f"n_clusters={self.n_clusters!r}, distance_threshold={self.distance_threshold!r}"
            )
        X = check_data(X)
        if self.n_clusters is not None:
            check_int("n_clusters", self.n_clusters, low=1, high=len(X))
        else:
            check_real("distance_threshold", self.distance_threshold, low=0.0)
        self.n_features_in_ = X.shape[1]
        center, scale = check_bool("center", self.center), check_bool("scale", self.scale)
        Xp = preprocess(X, center=center, scale=scale)
        self.graph_ = self._graph(Xp)
        self.path_ = self._path(Xp, self.graph_)
        self.linkage_ = self.path_.linkage
        self.labels_ = self.path_.cut(self.n_clusters, height=self.distance_threshold)
        self.n_clusters_ = int(self.labels_.max()) + 1
        self.n_iter_ = self.path_.n_iter
        return self


class ConvexBiclustering(BaseEstimator):
    """Convex biclustering path of X by CBASS or exact ADMM (see
    :mod:`algoreg.clustering.bicluster`): rows and columns are clustered at once, missing
    entries (NaN) are imputed along the path.

    Minimizes ½‖P_Ω(U − X)‖² + γ(Σ w_l‖U_i· − U_j·‖₂ + Σ w̃_m‖U_·k − U_·l‖₂) along γ and cuts
    the row and the column hierarchies.

    Parameters
    ----------
    n_row_clusters, n_col_clusters : clusters of the two cuts (default 2 each).
    method : "cbass" (one ADMM step per level) or "exact" (ADMM to convergence at each level).
    t : factor between levels, γ ← t·γ (> 1; the paper's default for CBASS is 1.01).
    epsilon, burn_in, rho, max_iter, tol : as in :class:`ConvexClustering`.
    phi, k : the Gaussian k-NN weights of the rows and of the columns ("auto" as there).
    center : subtract the grand mean of the observed entries first (default True).

    Attributes
    ----------
    row_labels_, column_labels_, row_linkage_, column_linkage_ (SciPy format, heights in γ),
    path_ (:class:`~algoreg.clustering.bicluster.BiclusterPath`), level_ (the kept iterate
    where the cuts first exist), U_ (its centroid matrix, n × p, in the centered units),
    n_iter_, n_features_in_.
    """

    def __init__(
        self,
        n_row_clusters: int = 2,
        n_col_clusters: int = 2,
        *,
        method: str = "cbass",
        t: float = 1.01,
        phi: float | str = "auto",
        k: int | str | None = "auto",
        center: bool = True,
        rho: float = 1.0,
        epsilon: float = 1e-6,
        burn_in: int = 50,
        max_iter: int = 1_000_000,
        tol: float = 1e-7,
    ):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.method = method
        self.t = t
        self.phi = phi
        self.k = k
        self.center = center
        self.rho = rho
        self.epsilon = epsilon
        self.burn_in = burn_in
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any = None) -> ConvexBiclustering:
        """Compute the path and cut both hierarchies; ``y`` is ignored."""
        X = check_data(X, missing=True)
        n, p = X.shape
        if p < 2:
            raise ConfigError(f"X must have at least 2 columns to bicluster, got {p}")
        k_rows = check_int("n_row_clusters", self.n_row_clusters, low=1, high=n)
        k_cols = check_int("n_col_clusters", self.n_col_clusters, low=1, high=p)
        method = check_choice("method", self.method, BICLUSTER_METHODS)
        self.n_features_in_ = p
        Xc = center_global(X) if check_bool("center", self.center) else X
        self.rows_graph_, self.cols_graph_ = balanced_weights(
            fill_missing(Xc), phi=self.phi, k=self.k
        )
        self.path_ = bicluster_path(
            Xc,
            self.rows_graph_,
            self.cols_graph_,
            method=method,
            t=self.t,
            rho=self.rho,
            epsilon=self.epsilon,
            burn_in=self.burn_in,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        self.row_linkage_ = self.path_.row_linkage
        self.column_linkage_ = self.path_.col_linkage
        self.row_labels_ = self.path_.row_cut(k_rows)
        self.column_labels_ = self.path_.col_cut(k_cols)
        self.level_ = self.path_.level(k_rows, k_cols)
        self.U_ = self.path_.U[self.level_]
        self.n_iter_ = self.path_.n_iter
        return self
