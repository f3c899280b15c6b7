"""Convex clustering as a study: the trial kind ``convex_clustering`` (presets
``weylandt2020``, ``weylandt2020-cuts`` and ``weylandt2020-cbass``).

A trial reads its data set from ``[problem]`` (:mod:`.datasets`), preprocesses it, builds
the Gaussian k-NN weights and computes the path by ``method`` (:mod:`.path`); its metrics:

- ``fit_s`` (solver seconds), ``weights_s``, ``iterations`` (ADMM steps), ``kept`` (kept
  iterates), ``phi``, ``k_nn``, ``n_edges``, ``monotone`` (1 when the linkage has n − 1
  merges at non-decreasing heights);
- with labels: ``ari``, the adjusted Rand index of the ``n_clusters`` cut (default: as many
  clusters as label classes) against them;
- with ``vs_exact``: the exact path on the same γ grid (``exact_s``, ``exact_iterations``,
  ``speedup`` = exact_s / fit_s) and ``path_error`` / ``mean_path_error``, the largest and
  mean relative distance of the path's iterates to the exact solutions (:mod:`.compare`).

``method = "cbass"`` or ``"cbass-exact"`` biclusters instead (:mod:`.bicluster`: rows and
columns at once, missing entries allowed; ``center`` subtracts the grand mean, ``scale`` must
be false): ``kept``, ``iterations``, ``fit_s`` as above, ``k_nn`` / ``col_k_nn``
and ``n_edges`` (rows and columns), ``monotone`` (both linkages); with labels, ``ari`` of the
row cut; with ``vs_exact`` (CBASS only) the exact biclustering path on the same grid as above
and ``cut_agreement``, the mean adjusted Rand index between CBASS's and the exact path's
row cuts and column cuts at 2…10 clusters (at most half the rows / columns), and
``tree_agreement``, the smaller of the row and column dendrograms' correlations of log
cophenetic heights (:func:`cophenetic_agreement`).

The ``*_s`` metrics and ``speedup`` are measured times (:data:`TIMINGS`); every other metric
is a pure function of the config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, check_bool, check_choice, check_int, check_real
from .bicluster import (
    BiclusterPath,
    balanced_weights,
    bicluster_path,
    bicluster_path_errors,
    center_global,
    fill_missing,
)
from .compare import path_errors
from .data import check_data, preprocess
from .datasets import adjusted_rand_index, load_dataset
from .path import METHODS, ClusterPath, carp, check_path_params, exact_path
from .weights import gaussian_knn_weights

TIMINGS = ("fit_s", "weights_s", "exact_s", "speedup")
BICLUSTER = {"cbass": "cbass", "cbass-exact": "exact"}  # study method → bicluster_path method
STUDY_METHODS = (*METHODS, *BICLUSTER)


@dataclass(frozen=True)
class ClusteringSettings:
    """The ``[model]`` settings of a ``convex_clustering`` trial (see
    :class:`~algoreg.clustering.ConvexClustering` for their meaning)."""

    method: str = "carp"
    t: float = 1.05
    q: int = 2
    phi: float | str = "auto"
    k: int | str | None = "auto"
    center: bool = True
    scale: bool = False
    rho: float = 1.0
    epsilon: float = 1e-6
    burn_in: int = 50
    tol: float = 1e-7
    n_clusters: int | None = None
    vs_exact: bool = False

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("method", check_choice("method", self.method, STUDY_METHODS))
        t, epsilon, _ = check_path_params(self.t, self.epsilon, 1)
        put("t", t)
        put("epsilon", epsilon)
        put("q", check_choice("q", self.q, [1, 2]))
        if self.phi != "auto":
            put("phi", check_real("phi", self.phi, low=0.0, low_open=True))
        if self.k not in ("auto", None):
            put("k", check_int("k", self.k, low=1))
        put("center", check_bool("center", self.center))
        put("scale", check_bool("scale", self.scale))
        put("rho", check_real("rho", self.rho, low=0.0, low_open=True))
        put("burn_in", check_int("burn_in", self.burn_in, low=0))
        put("tol", check_real("tol", self.tol, low=0.0, low_open=True))
        if self.n_clusters is not None:
            put("n_clusters", check_int("n_clusters", self.n_clusters, low=1))
        put("vs_exact", check_bool("vs_exact", self.vs_exact))
        if self.vs_exact and self.method in ("exact", "cbass-exact"):
            raise ConfigError(
                f"vs_exact compares a CARP or CBASS path with the exact one; method is "
                f"{self.method}"
            )
        if self.method in BICLUSTER and self.q != 2:
            raise ConfigError(f"q: biclustering fuses with the 2-norm only, got q={self.q}")
        if self.method in BICLUSTER and self.scale:
            raise ConfigError("scale: biclustering does not scale columns (it centers only)")


def fit_path(X: np.ndarray, s: ClusteringSettings, graph: Any) -> ClusterPath:
    """The path of ``method`` on preprocessed ``X`` with fusion ``graph``."""
    common: dict[str, Any] = {"t": s.t, "q": s.q, "rho": s.rho, "epsilon": s.epsilon}
    if s.method == "exact":
        return exact_path(X, graph, tol=s.tol, **common)
    return carp(X, graph, burn_in=s.burn_in, back_track=s.method == "carp-viz", **common)


@dataclass(frozen=True)
class Fitted:
    """A trial's data as the path saw it (preprocessed), its fusion graph(s) — ``cols`` for
    biclustering only — the seconds the weights took, and the path."""

    X: np.ndarray
    graph: Any
    cols: Any
    weights_s: float
    path: Any


def fit_trial(X: np.ndarray, s: ClusteringSettings, name: str) -> Fitted:
    """Preprocess data set ``name`` as ``s`` says, build its weights and fit its path: convex
    clustering (carp, carp-viz, exact) or biclustering (cbass, cbass-exact). What a trial
    runs, and what the HTML report's path view recomputes."""
    if s.method in BICLUSTER:
        X = check_data(X, name, missing=True)
        X = center_global(X) if s.center else X
        start = time.perf_counter()
        rows, cols = balanced_weights(fill_missing(X), phi=s.phi, k=s.k)
        weights_s = time.perf_counter() - start
        path = bicluster_path(
            X, rows, cols, method=BICLUSTER[s.method], burn_in=s.burn_in, **_bicommon(s)
        )
        return Fitted(X, rows, cols, weights_s, path)
    X = preprocess(check_data(X, name), center=s.center, scale=s.scale)
    start = time.perf_counter()
    graph = gaussian_knn_weights(X, phi=s.phi, k=s.k)
    weights_s = time.perf_counter() - start
    return Fitted(X, graph, None, weights_s, fit_path(X, s, graph))


def _bicommon(s: ClusteringSettings) -> dict[str, Any]:
    return {"t": s.t, "rho": s.rho, "epsilon": s.epsilon, "tol": s.tol}


def _cut_metrics(
    s: ClusteringSettings, labels: np.ndarray | None, n: int, what: str, cut: Any
) -> dict[str, float]:
    """``n_clusters`` (given, or the labels' count) and the cut's ``ari`` against the labels."""
    n_clusters = s.n_clusters or (len(np.unique(labels)) if labels is not None else None)
    if n_clusters is None:
        return {}
    if n_clusters > n:
        raise ConfigError(f"n_clusters={n_clusters} exceeds the {n} {what}")
    out = {"n_clusters": float(n_clusters)}
    if labels is not None:
        out["ari"] = adjusted_rand_index(cut(n_clusters), labels)
    return out


def _exact_metrics(path: Any, exact: Any, errors: np.ndarray) -> dict[str, float]:
    """How the path compares with the exact one: time, speedup and the path errors."""
    return {
        "exact_s": exact.seconds,
        "exact_iterations": float(exact.n_iter),
        "speedup": exact.seconds / path.seconds,
        "path_error": float(errors.max()),
        "mean_path_error": float(errors.mean()),
    }


def _outcome(metrics: dict[str, float], path: Any, done: bool) -> dict[str, Any]:
    return {
        "metrics": metrics,
        "status": "converged" if done else "max_steps",
        "steps": path.n_iter,
    }


def monotone(linkage: np.ndarray, n: int) -> bool:
    """Whether ``linkage`` has n − 1 merges at non-decreasing heights."""
    return len(linkage) == n - 1 and bool(np.all(np.diff(linkage[:, 2]) >= 0))


def run(config: dict[str, Any]) -> dict[str, Any]:
    """One clustering trial (see the module)."""
    s = ClusteringSettings(**{k: v for k, v in config["model"].items() if k != "kind"})
    X, labels = load_dataset(config["problem"])
    fitted = fit_trial(X, s, config["problem"]["data"])
    if s.method in BICLUSTER:
        return _bicluster_outcome(fitted, labels, s)
    X, graph, path = fitted.X, fitted.graph, fitted.path
    metrics = {
        "fit_s": path.seconds,
        "weights_s": fitted.weights_s,
        "iterations": float(path.n_iter),
        "kept": float(len(path.gammas)),
        "phi": float("nan") if graph.phi is None else float(graph.phi),
        "k_nn": float(graph.k if graph.k is not None else len(X) - 1),
        "n_edges": float(graph.n_edges),
        "monotone": float(monotone(path.linkage, len(X))),
        **_cut_metrics(s, labels, len(X), "observations", path.cut),
    }
    if s.vs_exact:
        exact = exact_path(X, graph, t=s.t, q=s.q, rho=s.rho, epsilon=s.epsilon, tol=s.tol)
        _, errors = path_errors(path, X, rho=s.rho)
        metrics.update(_exact_metrics(path, exact, errors))
    return _outcome(metrics, path, bool(path.fused[-1].all()))


def cut_agreement(a: BiclusterPath, b: BiclusterPath, ks: range = range(2, 11)) -> float:
    """The mean ARI between the row cuts, and between the column cuts, of two biclustering
    paths at k ∈ ``ks`` clusters (k at most half the rows / columns). A near-tie between two
    merges can swap them and make one cut disagree; :func:`tree_agreement` is not sensitive
    to that."""
    scores = [adjusted_rand_index(a.row_cut(k), b.row_cut(k)) for k in ks if 2 * k <= a.rows.n]
    scores += [adjusted_rand_index(a.col_cut(k), b.col_cut(k)) for k in ks if 2 * k <= a.cols.n]
    return float(np.mean(scores)) if scores else 1.0


def cophenetic_agreement(Za: np.ndarray, Zb: np.ndarray) -> float:
    """Pearson correlation of the log cophenetic heights (the γ at which each pair of leaves
    first shares a cluster) of two linkages of the same leaves; 1 for the same tree up to a
    common scale of γ."""
    from scipy.cluster.hierarchy import cophenet

    x, y = cophenet(Za), cophenet(Zb)
    positive = np.concatenate([x[x > 0], y[y > 0]])
    if positive.size == 0:
        return 1.0
    floor = positive.min() / 2
    x, y = np.log(np.maximum(x, floor)), np.log(np.maximum(y, floor))
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float(np.ptp(x) == np.ptp(y))
    return float(np.corrcoef(x, y)[0, 1])


def tree_agreement(a: BiclusterPath, b: BiclusterPath) -> float:
    """The smaller of the row and the column dendrograms' :func:`cophenetic_agreement`."""
    return min(
        cophenetic_agreement(a.row_linkage, b.row_linkage),
        cophenetic_agreement(a.col_linkage, b.col_linkage),
    )


def _bicluster_outcome(
    fitted: Fitted, labels: np.ndarray | None, s: ClusteringSettings
) -> dict[str, Any]:
    """The metrics of one biclustering trial (``method`` cbass or cbass-exact)."""
    X, rows, cols, path = fitted.X, fitted.graph, fitted.cols, fitted.path
    n, p = X.shape
    metrics = {
        "fit_s": path.seconds,
        "weights_s": fitted.weights_s,
        "iterations": float(path.n_iter),
        "kept": float(len(path.gammas)),
        "k_nn": float(rows.k if rows.k is not None else n - 1),
        "col_k_nn": float(cols.k if cols.k is not None else p - 1),
        "n_edges": float(rows.n_edges + cols.n_edges),
        "monotone": float(monotone(path.row_linkage, n) and monotone(path.col_linkage, p)),
        **_cut_metrics(s, labels, n, "rows", path.row_cut),
    }
    if s.vs_exact:
        exact = bicluster_path(X, rows, cols, method="exact", **_bicommon(s))
        _, errors = bicluster_path_errors(path, X, rho=s.rho)
        metrics.update(
            _exact_metrics(path, exact, errors),
            cut_agreement=cut_agreement(path, exact),
            tree_agreement=tree_agreement(path, exact),
        )
    return _outcome(metrics, path, path.finished)


def label(settings: dict[str, Any], with_lam: bool = True) -> str:
    """The method name in tables: ``carp``, ``carp-viz``, ``exact``, ``cbass`` or
    ``cbass-exact`` (``q=1`` added)."""
    return settings["method"] + (" q=1" if settings["q"] == 1 else "")
