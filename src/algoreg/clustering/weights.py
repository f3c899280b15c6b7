"""Fusion weights and the edge-difference matrix D.

The default scheme (Hocking et al. 2011; the paper's defaults) is a sparsified Gaussian kernel:
w_ij = exp(−φ d_ij²) with d_ij = ‖x_i − x_j‖₂, φ chosen from {10⁻¹⁰, …, 10¹⁰} to maximize the
variance of the n(n−1)/2 kernel weights, then only the edges of the symmetrized k-nearest-
neighbour graph kept ((i, j) stays if j is among i's k nearest or i among j's), with the
smallest k that keeps the graph connected. A disconnected graph is an error: the clustering
path would never reach one cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import pdist, squareform

from ..errors import ConfigError, check_int, check_real

PHI_GRID = 10.0 ** np.arange(-10, 11)


@dataclass(frozen=True)
class FusionGraph:
    """Weighted edges (i < j, lexicographic order) of the fusion penalty Σ_l w_l‖U_i − U_j‖_q.

    ``phi`` and ``k`` record how the weights were chosen (None for user-given weights or a
    dense graph).
    """

    n: int
    edges: np.ndarray
    weights: np.ndarray
    phi: float | None = None
    k: int | None = None

    @property
    def n_edges(self) -> int:
        return len(self.weights)

    def difference_matrix(self) -> sp.csr_matrix:
        """D ∈ R^{m×n}: row l is e_i − e_j for edge l = (i, j), so (DU)_l = U_i − U_j."""
        m = self.n_edges
        rows = np.repeat(np.arange(m), 2)
        cols = self.edges.reshape(-1)
        vals = np.tile([1.0, -1.0], m)
        return sp.csr_matrix((vals, (rows, cols)), shape=(m, self.n))


def is_connected(n: int, edges: np.ndarray) -> bool:
    """Whether the graph on n vertices with these edges has one connected component."""
    adj = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    return connected_components(adj, directed=False, return_labels=False) == 1


def choose_phi(sq_dists: np.ndarray) -> float:
    """The φ of ``PHI_GRID`` maximizing the variance of exp(−φ d²) over the given (condensed)
    squared distances; the smallest such φ on ties (e.g. all distances equal)."""
    variances = [np.var(np.exp(-phi * sq_dists)) for phi in PHI_GRID]
    return float(PHI_GRID[int(np.argmax(variances))])


def _knn_edges(ranks: np.ndarray, k: int) -> np.ndarray:
    """Edges (i < j) of the symmetrized k-nearest-neighbour graph given neighbour ranks."""
    near = ranks < k
    near |= near.T
    i, j = np.nonzero(np.triu(near, 1))
    return np.column_stack([i, j])


def _neighbour_ranks(sq: np.ndarray) -> np.ndarray:
    """ranks[i, j] = position of j in i's neighbour list (0 = nearest; i itself last)."""
    n = len(sq)
    d = sq.copy()
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")
    ranks = np.empty_like(order)
    ranks[np.arange(n)[:, None], order] = np.arange(n)
    return ranks


def smallest_connected_k(ranks: np.ndarray) -> int:
    """The smallest k whose symmetrized k-NN graph is connected (bisection: the graphs nest)."""
    n = len(ranks)
    lo, hi = 1, n - 1  # the (n−1)-NN graph is complete
    while lo < hi:
        mid = (lo + hi) // 2
        if is_connected(n, _knn_edges(ranks, mid)):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _connected_or_raise(n: int, edges: np.ndarray, what: str) -> None:
    if not is_connected(n, edges):
        raise ConfigError(
            f"{what} gives a disconnected fusion graph on the {n} observations; the clustering "
            "path would never reach one cluster"
        )


def gaussian_knn_weights(
    X: np.ndarray, *, phi: float | str = "auto", k: int | str | None = "auto"
) -> FusionGraph:
    """Gaussian-kernel weights exp(−φ d²) on the symmetrized k-NN graph of the rows of ``X``.

    ``phi="auto"`` maximizes the weights' variance over ``PHI_GRID``; ``k="auto"`` takes the
    smallest k giving a connected graph, ``k=None`` keeps every pair (dense weights).
    """
    n = len(X)
    sq_condensed = pdist(X, "sqeuclidean")
    if isinstance(phi, str):
        if phi != "auto":
            raise ConfigError(f"phi must be 'auto' or a positive number, got {phi!r}")
        phi = choose_phi(sq_condensed)
    else:
        phi = check_real("phi", phi, low=0.0, low_open=True)
    sq = squareform(sq_condensed)
    if k is None:
        i, j = np.triu_indices(n, 1)
        edges = np.column_stack([i, j])
    else:
        ranks = _neighbour_ranks(sq)
        if isinstance(k, str):
            if k != "auto":
                raise ConfigError(f"k must be 'auto', None or a positive integer, got {k!r}")
            k = smallest_connected_k(ranks)
        else:
            k = min(check_int("k", k, low=1), n - 1)
        edges = _knn_edges(ranks, k)
        if not is_connected(n, edges):
            raise ConfigError(
                f"k={k} nearest neighbours give a disconnected fusion graph on the {n} "
                f"observations (the path would never reach one cluster); the smallest k "
                f"that connects it is {smallest_connected_k(ranks)} (or use k='auto')"
            )
    w = np.exp(-phi * sq[edges[:, 0], edges[:, 1]])
    keep = w > 0
    if not keep.all():
        edges, w = edges[keep], w[keep]
        _connected_or_raise(
            n, edges, f"phi={phi:g} underflows {int((~keep).sum())} weights to 0 and so"
        )
    return FusionGraph(n=n, edges=edges, weights=w, phi=float(phi), k=k)


def graph_from_matrix(W: Any, n: int) -> FusionGraph:
    """User-given weights: a symmetric nonnegative ``(n, n)`` matrix; its positive entries
    above the diagonal are the edges."""
    try:
        W = np.asarray(W, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"weights must be a numeric (n, n) matrix: {exc}") from None
    if W.shape != (n, n):
        raise ConfigError(f"weights must be an ({n}, {n}) matrix for {n} rows of X, got {W.shape}")
    if not np.isfinite(W).all() or (W < 0).any():
        raise ConfigError("weights must be finite and nonnegative")
    if not np.allclose(W, W.T, rtol=1e-10, atol=0.0):
        raise ConfigError("weights must be a symmetric matrix (w_ij = w_ji)")
    i, j = np.nonzero(np.triu(W, 1) > 0)
    edges = np.column_stack([i, j])
    _connected_or_raise(n, edges, "the given weights matrix")
    return FusionGraph(n=n, edges=edges, weights=W[i, j].copy())
