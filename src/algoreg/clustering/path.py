"""Convex clustering paths: CARP, CARP-VIZ and an exact path on the same γ grid.

CARP (Weylandt, Nagorski & Allen 2020, algorithmic regularization): from (U, V, Z) = (X, DX, 0)
at γ = ε, take ``burn_in`` ADMM steps at ε, then **one** ADMM step per level γ ← t·γ, until
every edge is fused (V = 0). The paper proves the iterates converge to the exact path as
t → 1. CARP-VIZ back-tracks so that every kept step merges exactly one pair of clusters. The
exact mode runs ADMM to convergence at every level of the same grid, for comparison.

CARP-VIZ's back-tracking is solved exactly here rather than by halving the step: the
U-update does not involve γ, so within one step edge l fuses iff γ ≥ γ*_l (its critical
level, see :mod:`.admm`) and the merges are a step function of γ. A proposed level t·γ that
would merge several pairs is lowered to the smallest γ*_l among the edges joining two
clusters, which is the limit of halving the step until one merge remains (ties, and critical
levels already below the previous γ, still merge several pairs: they are split as in
:mod:`.tree`).

Kept iterates: for CARP and the exact path, every level where the fusion pattern changes; for
CARP-VIZ, every level that merges a pair. Fusions can be undone in the raw path (an edge fused
at one level can unfuse later); the hierarchy keeps the union of all fusions so far.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import ConfigError, ConvergenceWarning, check_int, check_real
from .admm import Splitting, admm_solve
from .tree import MergeTracker, cut_linkage
from .weights import FusionGraph

METHODS = ("carp", "carp-viz", "exact")


@dataclass(frozen=True)
class ClusterPath:
    """A computed path: the kept iterates and the hierarchy they define.

    ``gammas[k]``, ``U[k]`` (n × p) and ``fused[k]`` (one flag per edge of ``graph``) are the
    k-th kept iterate (k = 0: γ = 0, U = X), ``merges[k]`` how many pairs of clusters it
    merged; ``linkage`` is SciPy's (n − 1) × 4 format with
    heights in γ; ``n_iter`` counts ADMM steps; ``seconds`` is the solver's wall time
    (factorization included, weights excluded).
    """

    method: str
    gammas: np.ndarray
    U: np.ndarray
    fused: np.ndarray
    merges: np.ndarray
    linkage: np.ndarray
    graph: FusionGraph
    n_iter: int
    seconds: float
    t: float
    q: int

    def cut(self, n_clusters: int | None = None, *, height: float | None = None) -> np.ndarray:
        """Labels of ``n_clusters`` clusters, or of the hierarchy cut at γ = ``height``."""
        return cut_linkage(self.linkage, n_clusters, height=height)

    def clusters(self, k: int) -> np.ndarray:
        """Labels of the raw fusion pattern of kept iterate k: the connected components of its
        fused edges (not necessarily nested across k)."""
        e = self.graph.edges[self.fused[k]]
        n = self.graph.n
        adj = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
        return connected_components(adj, directed=False)[1]


class _Recorder:
    """Keeps iterates and feeds new fusions to the merge tracker."""

    def __init__(self, split: Splitting, keep_every_change: bool):
        self.tracker = MergeTracker(split.graph.n, split.graph.edges)
        self.keep_every_change = keep_every_change
        self.last = np.zeros(split.graph.n_edges, dtype=bool)
        self.gammas, self.U, self.fused, self.merges = [0.0], [split.X.copy()], [self.last], [0]

    def observe(
        self, U: np.ndarray, crit: np.ndarray, gamma: float, gamma_prev: float
    ) -> np.ndarray:
        fused = crit <= gamma
        if np.array_equal(fused, self.last):
            return fused
        idx = self.tracker.candidates(fused, crit)
        merged = self.tracker.merge(idx, np.clip(crit[idx], gamma_prev, gamma)) if idx.size else 0
        if merged or self.keep_every_change:
            self.gammas.append(gamma)
            self.U.append(U)
            self.fused.append(fused)
            self.merges.append(merged)
        self.last = fused
        return fused

    def result(self, split: Splitting, method: str, n_iter: int, start: float, t: float):
        return ClusterPath(
            method=method,
            gammas=np.array(self.gammas),
            U=np.stack(self.U),
            fused=np.stack(self.fused),
            merges=np.array(self.merges),
            linkage=self.tracker.linkage(),
            graph=split.graph,
            n_iter=n_iter,
            seconds=time.perf_counter() - start,
            t=t,
            q=split.q,
        )


def _stopped(rec: _Recorder, method: str, n_iter: int, gamma: float) -> None:
    warnings.warn(
        f"{method} stopped at max_iter={n_iter} ADMM steps at γ={gamma:.4g} with "
        f"{rec.tracker.n_clusters} clusters left; their merges are placed at that γ",
        ConvergenceWarning,
        stacklevel=3,
    )
    rec.tracker.finish(gamma)


def check_path_params(t: float, epsilon: float, max_iter: int) -> tuple[float, float, int]:
    """Validate the step factor t > 1, the first level ε > 0 and the iteration limit."""
    t = check_real("t", t)
    if t <= 1.0:
        raise ConfigError(f"t must be > 1 (the factor in γ ← t·γ between levels), got {t}")
    epsilon = check_real("epsilon", epsilon, low=0.0, low_open=True)
    return t, epsilon, check_int("max_iter", max_iter, low=1)


def carp(
    X: np.ndarray,
    graph: FusionGraph,
    *,
    t: float = 1.05,
    q: int = 2,
    rho: float = 1.0,
    epsilon: float = 1e-6,
    burn_in: int = 50,
    back_track: bool = False,
    max_iter: int = 1_000_000,
) -> ClusterPath:
    """CARP (``back_track=False``) or CARP-VIZ (``True``) on data ``X`` with fusion ``graph``.

    Each step: (U, A, γ*) = U-update; [CARP-VIZ: lower γ to the first merge]; V, Z = prox at γ;
    record; γ ← t·γ (after ``burn_in`` steps at γ = ε).
    """
    t, epsilon, max_iter = check_path_params(t, epsilon, max_iter)
    burn_in = check_int("burn_in", burn_in, low=0)
    start = time.perf_counter()
    split = Splitting(X, graph, q=q, rho=rho)
    rec = _Recorder(split, keep_every_change=not back_track)
    tracker = rec.tracker
    _, V, Z = split.start()
    gamma, gamma_prev = epsilon, 0.0
    for it in range(1, max_iter + 1):
        U, A, crit = split.forward(V, Z)
        if back_track:
            idx = tracker.candidates(crit <= gamma, crit)
            if idx.size > 1 and tracker.count(idx) > 1:
                gamma = max(float(crit[idx[0]]), gamma_prev)
        V, Z = split.shrink(A, crit, gamma)
        if rec.observe(U, crit, gamma, gamma_prev).all():
            break
        if it >= burn_in:
            gamma_prev, gamma = gamma, gamma * t
    else:
        _stopped(rec, "CARP-VIZ" if back_track else "CARP", max_iter, gamma)
    return rec.result(split, "carp-viz" if back_track else "carp", it, start, t)


def exact_path(
    X: np.ndarray,
    graph: FusionGraph,
    *,
    t: float = 1.05,
    q: int = 2,
    rho: float = 1.0,
    epsilon: float = 1e-6,
    tol: float = 1e-7,
    max_iter: int = 10_000_000,
) -> ClusterPath:
    """ADMM to convergence (:func:`.admm.admm_solve`, warm-started) at γ = ε·t^k, k = 0, 1, …,
    until every edge is fused; ``max_iter`` bounds the ADMM steps of the whole path."""
    t, epsilon, max_iter = check_path_params(t, epsilon, max_iter)
    start = time.perf_counter()
    split = Splitting(X, graph, q=q, rho=rho)
    rec = _Recorder(split, keep_every_change=True)
    state = split.start()
    gamma, gamma_prev, n_iter = epsilon, 0.0, 0
    while True:
        state, crit, steps, converged = admm_solve(
            split, gamma, state, tol=tol, max_iter=max_iter - n_iter
        )
        n_iter += steps
        if rec.observe(state[0], crit, gamma, gamma_prev).all():
            break
        if not converged or n_iter >= max_iter:
            _stopped(rec, "the exact path", max_iter, gamma)
            break
        gamma_prev, gamma = gamma, gamma * t
    return rec.result(split, "exact", n_iter, start, t)
