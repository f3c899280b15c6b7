"""Convex biclustering paths by algorithmic regularization (CBASS; Weylandt, Nagorski & Allen
2020, after Chi, Allen & Baraniuk 2017), with missing entries.

    minimize_U  ½‖P_Ω(U − X)‖_F² + γ (Σ_l w_l ‖(D_r U)_l‖₂ + Σ_m w̃_m ‖(D_c Uᵀ)_m‖₂)

(D_r: row-difference matrix of the row graph, D_c: of the column graph; P_Ω keeps the observed
entries). Splitting V_r = D_r U and V_c = D_c Uᵀ (scaled duals Z_r, Z_c) gives a two-block
ADMM (U; (V_r, V_c)) whose U-update is a Sylvester equation

    U + ρ L_r U + ρ U L_c = X̃ + ρ D_rᵀ(V_r − Z_r) + ρ (D_cᵀ(V_c − Z_c))ᵀ,

L_r = D_rᵀD_r and L_c = D_cᵀD_c the graph Laplacians. With L_r = Q_r Λ_r Q_rᵀ and
L_c = Q_c Λ_c Q_cᵀ (eigendecompositions computed once) it is solved entry-wise in the eigen-
bases: U = Q_r [(Q_rᵀ R Q_c) ⊘ (1 + ρλ_i + ρμ_j)] Q_cᵀ. Then A_r = D_r U + Z_r,
V_r = prox(A_r) row-wise (group soft-threshold at γw_l/ρ), Z_r = A_r − V_r, and the same for
the columns. This is CARP's ADMM for the stacked fusion operator U ↦ (D_r U, D_c Uᵀ), so, as
in CARP, the U-update does not involve γ and each edge has a critical level γ*_l =
ρ‖A_l‖₂/w_l at which one step fuses it (the paper's own CBASS alternates row and column
convex-clustering steps, a DLPA-type splitting; both solve the same problem). Measured on
presidential speech (44 × 75, one core): a step costs about 140 µs, 80 µs of it the four
dense products of the U-update; at t = 1.01 CBASS takes 2583 steps (clustRviz: 2644).

**Missing entries** (NaN in X): the loss is majorized at the current iterate, X̃ = P_Ω(X) +
P_Ω^⊥(U_prev) — the missing entries are imputed from the current U inside each U-update. A
fixed point satisfies P_Ω(U − X) + ∂pen(U) ∋ 0, the optimality condition of the problem.
At small γ the loss is flat along the missing entries and the imputation moves them at a rate
∝ γ per step, so CBASS keeps them near their starting fill until γ grows, and the exact mode
(which also requires the imputed U to stop moving) needs ~1/γ steps at its first levels: with
missing entries use it on small problems only.

CBASS (``method="cbass"``): from U = X (missing entries filled additively: row mean + column
mean − grand mean of the observed entries) and V = DU, Z = 0, ``burn_in`` steps at γ = ε,
then **one** step per level γ ← t·γ until every row edge and every column edge is fused; the
exact mode (``"exact"``) runs the ADMM to convergence at each level of the same grid. Kept
iterates: where the row or the column fusion pattern changes; each side's merges become a
SciPy linkage (:mod:`.tree`).

Defaults as in the paper's software: the data is centered by its grand mean (column centering
would erase the column clusters), row weights are Gaussian k-NN weights of the rows
(:func:`.weights.gaussian_knn_weights`), column weights of the columns, and the two sets are
rescaled to sum to 1/√n (rows) and 1/√p (columns), as clustRviz's CBASS documents.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, ConvergenceWarning, check_int, check_real
from .admm import TINY
from .path import check_path_params
from .tree import MergeTracker, cut_linkage
from .weights import FusionGraph, gaussian_knn_weights

BICLUSTER_METHODS = ("cbass", "exact")

State = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # U, Vr, Zr, Vc, Zc


def center_global(X: np.ndarray) -> np.ndarray:
    """X minus the mean of its observed (non-NaN) entries."""
    return X - np.nanmean(X)


def fill_missing(X: np.ndarray) -> np.ndarray:
    """X with each NaN at (i, j) replaced by row mean_i + column mean_j − grand mean of the
    observed entries (a two-way additive fill: exact on a row-plus-column pattern)."""
    missing = np.isnan(X)
    if not missing.any():
        return X.copy()
    grand = np.nanmean(X)
    rows, cols = np.nanmean(X, axis=1), np.nanmean(X, axis=0)
    return np.where(missing, rows[:, None] + cols[None, :] - grand, X)


def balanced_weights(X: np.ndarray, *, phi="auto", k="auto") -> tuple[FusionGraph, FusionGraph]:
    """Gaussian k-NN weights of the rows and of the columns of a complete ``X`` (see
    :func:`.weights.gaussian_knn_weights`), rescaled to sum to 1/√n (rows) and 1/√p
    (columns)."""
    n, p = X.shape
    rows = gaussian_knn_weights(X, phi=phi, k=k)
    cols = gaussian_knn_weights(X.T, phi=phi, k=k)
    rows = dataclasses.replace(rows, weights=rows.weights / (rows.weights.sum() * np.sqrt(n)))
    cols = dataclasses.replace(cols, weights=cols.weights / (cols.weights.sum() * np.sqrt(p)))
    return rows, cols


class BiSplitting:
    """One convex biclustering problem (X with NaN for missing, row and column graphs, ρ) with
    the eigendecompositions of its two Laplacians (see the module)."""

    def __init__(self, X: np.ndarray, rows: FusionGraph, cols: FusionGraph, *, rho: float = 1.0):
        self.rho = check_real("rho", rho, low=0.0, low_open=True)
        n, p = X.shape
        if rows.n != n or cols.n != p:
            raise ConfigError(
                f"the row graph has {rows.n} vertices and the column graph {cols.n}; X is {n} × {p}"
            )
        missing = np.isnan(X)
        self.observed = ~missing if missing.any() else None
        self.X = np.where(missing, 0.0, X)
        self.fill = fill_missing(X)
        self.scale = max(float(np.linalg.norm(self.X)), TINY)  # ‖P_Ω X‖_F
        self.rows, self.cols = rows, cols
        self.Dr, self.Dc = rows.difference_matrix(), cols.difference_matrix()
        self.Drt, self.Dct = self.Dr.T.tocsr(), self.Dc.T.tocsr()
        lr, self.Qr = np.linalg.eigh((self.Drt @ self.Dr).toarray())
        lc, self.Qc = np.linalg.eigh((self.Dct @ self.Dc).toarray())
        self.denom = 1.0 + self.rho * (np.maximum(lr, 0.0)[:, None] + np.maximum(lc, 0.0))
        self.crit_r = self.rho / rows.weights
        self.crit_c = self.rho / cols.weights

    def start(self) -> State:
        """(U, V_r, Z_r, V_c, Z_c) = (X filled, D_r U, 0, D_c Uᵀ, 0)."""
        U = self.fill.copy()
        Vr, Vc = self.Dr @ U, self.Dc @ U.T
        return U, Vr, np.zeros_like(Vr), Vc, np.zeros_like(Vc)

    def forward(self, state: State):
        """The U-update (imputing from the previous U) and A_r, A_c with each edge's critical
        level: ``(U, A_r, crit_r, A_c, crit_c)``."""
        U_prev, Vr, Zr, Vc, Zc = state
        data = self.X if self.observed is None else np.where(self.observed, self.X, U_prev)
        R = data + self.rho * (self.Drt @ (Vr - Zr) + (self.Dct @ (Vc - Zc)).T)
        U = self.Qr @ (((self.Qr.T @ R) @ self.Qc) / self.denom) @ self.Qc.T
        Ar = self.Dr @ U
        Ar += Zr
        Ac = self.Dc @ U.T
        Ac += Zc
        return U, Ar, self.crit_r * _norms(Ar), Ac, self.crit_c * _norms(Ac)

    @staticmethod
    def shrink(A: np.ndarray, crit: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """V = (1 − γ/γ*_l)₊ A_l row-wise (the group soft-threshold), Z = A − V."""
        scale = 1.0 - gamma / np.maximum(crit, TINY)
        np.maximum(scale, 0.0, out=scale)
        V = A * scale[:, None]
        return V, A - V

    def step(self, state: State, gamma: float):
        """One ADMM step at γ: ``(new state, crit_r, crit_c)``."""
        U, Ar, cr, Ac, cc = self.forward(state)
        Vr, Zr = self.shrink(Ar, cr, gamma)
        Vc, Zc = self.shrink(Ac, cc, gamma)
        return (U, Vr, Zr, Vc, Zc), cr, cc

    def objective(self, U: np.ndarray, gamma: float) -> float:
        """½‖P_Ω(U − X)‖² + γ(Σ w_l‖(D_r U)_l‖ + Σ w̃_m‖(D_c Uᵀ)_m‖)."""
        R = U - self.X
        if self.observed is not None:
            R = R * self.observed
        pen = self.rows.weights @ _norms(self.Dr @ U) + self.cols.weights @ _norms(self.Dc @ U.T)
        return 0.5 * float(np.sum(R**2)) + gamma * float(pen)


def _norms(A: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", A, A))


def bi_admm_solve(
    split: BiSplitting,
    gamma: float,
    state: State | None = None,
    *,
    tol: float = 1e-7,
    max_iter: int = 100_000,
) -> tuple[State, np.ndarray, np.ndarray, int, bool]:
    """ADMM to convergence at one γ from ``state`` (default: the start). Stops when the primal
    residual ‖(D_r U − V_r, D_c Uᵀ − V_c)‖, the dual residual ρ‖D_rᵀΔV_r + (D_cᵀΔV_c)ᵀ‖ and,
    with missing entries, the change of U are all ≤ tol·‖P_Ω X‖_F. Returns (state, crit_r,
    crit_c, iterations, converged)."""
    gamma = check_real("gamma", gamma, low=0.0)
    check_real("tol", tol, low=0.0, low_open=True)
    check_int("max_iter", max_iter, low=1)
    state = split.start() if state is None else state
    bound = tol * split.scale
    cr = cc = np.zeros(0)
    for it in range(1, max_iter + 1):
        U_prev, Vr_prev, Zr_prev, Vc_prev, Zc_prev = state
        U, Ar, cr, Ac, cc = split.forward(state)
        Vr, Zr = split.shrink(Ar, cr, gamma)
        Vc, Zc = split.shrink(Ac, cc, gamma)
        state = (U, Vr, Zr, Vc, Zc)
        # D_r U − V_r and D_c Uᵀ − V_c (A holds the previous Z)
        primal = np.hypot(np.linalg.norm(Ar - Zr_prev - Vr), np.linalg.norm(Ac - Zc_prev - Vc))
        dual = split.rho * np.linalg.norm(
            split.Drt @ (Vr - Vr_prev) + (split.Dct @ (Vc - Vc_prev)).T
        )
        moved = 0.0 if split.observed is None else np.linalg.norm(U - U_prev)
        if primal <= bound and dual <= bound and moved <= bound:
            return state, cr, cc, it, True
    return state, cr, cc, max_iter, False


class _Side:
    """The fusions of one side (rows or columns) along a path, fed to a merge tracker."""

    def __init__(self, graph: FusionGraph):
        self.graph = graph
        self.tracker = MergeTracker(graph.n, graph.edges)
        self.last = np.zeros(graph.n_edges, dtype=bool)

    def observe(self, crit: np.ndarray, gamma: float, gamma_prev: float) -> bool:
        """Record this step's fusions; whether the pattern changed."""
        fused = crit <= gamma
        if np.array_equal(fused, self.last):
            return False
        idx = self.tracker.candidates(fused, crit)
        if idx.size:
            self.tracker.merge(idx, np.clip(crit[idx], gamma_prev, gamma))
        self.last = fused
        return True

    @property
    def done(self) -> bool:
        return bool(self.last.all())


@dataclass(frozen=True)
class BiclusterPath:
    """A computed biclustering path: ``gammas[k]`` and ``U[k]`` (n × p) are the k-th kept
    iterate (k = 0: γ = 0, U = the filled data), ``row_merges[k]`` / ``col_merges[k]`` the
    merges it made; ``row_linkage`` ((n − 1) × 4) and ``col_linkage`` ((p − 1) × 4) are SciPy
    linkages with heights in γ; ``observed`` is the mask of observed entries (None: complete)."""

    method: str
    gammas: np.ndarray
    U: np.ndarray
    row_merges: np.ndarray
    col_merges: np.ndarray
    row_linkage: np.ndarray
    col_linkage: np.ndarray
    rows: FusionGraph
    cols: FusionGraph
    observed: np.ndarray | None
    n_iter: int
    seconds: float
    t: float
    finished: bool = True  # every edge fused (False: stopped at max_iter)

    def row_cut(self, n_clusters: int | None = None, *, height: float | None = None):
        """Row labels of ``n_clusters`` clusters, or of the row hierarchy cut at γ = height."""
        return cut_linkage(self.row_linkage, n_clusters, height=height)

    def col_cut(self, n_clusters: int | None = None, *, height: float | None = None):
        """Column labels of ``n_clusters`` clusters, or of the column hierarchy cut at γ."""
        return cut_linkage(self.col_linkage, n_clusters, height=height)

    def level(self, n_row_clusters: int, n_col_clusters: int) -> int:
        """The first kept iterate at which the hierarchies have at most these many row and
        column clusters (the last one if never)."""
        rows_left = self.rows.n - np.cumsum(self.row_merges)
        cols_left = self.cols.n - np.cumsum(self.col_merges)
        ok = (rows_left <= n_row_clusters) & (cols_left <= n_col_clusters)
        return int(np.argmax(ok)) if ok.any() else len(ok) - 1


def bicluster_path(
    X: np.ndarray,
    rows: FusionGraph,
    cols: FusionGraph,
    *,
    method: str = "cbass",
    t: float = 1.01,
    rho: float = 1.0,
    epsilon: float = 1e-6,
    burn_in: int = 50,
    tol: float = 1e-7,
    max_iter: int = 1_000_000,
) -> BiclusterPath:
    """CBASS (one ADMM step per level γ ← t·γ) or the exact path (ADMM to ``tol`` at every
    level) on ``X`` (NaN: missing) with row and column fusion graphs; see the module."""
    if method not in BICLUSTER_METHODS:
        raise ConfigError(f"method must be one of {', '.join(BICLUSTER_METHODS)}, got {method!r}")
    t, epsilon, max_iter = check_path_params(t, epsilon, max_iter)
    burn_in = check_int("burn_in", burn_in, low=0)
    start = time.perf_counter()
    split = BiSplitting(X, rows, cols, rho=rho)
    state = split.start()
    sides = _Side(rows), _Side(cols)
    gammas, Us, merges = [0.0], [state[0].copy()], [(0, 0)]
    gamma, gamma_prev, n_iter, stopped = epsilon, 0.0, 0, False
    while True:
        if method == "cbass":
            state, cr, cc = split.step(state, gamma)
            n_iter += 1
        else:
            state, cr, cc, steps, converged = bi_admm_solve(
                split, gamma, state, tol=tol, max_iter=max_iter - n_iter
            )
            n_iter += steps
            stopped = not converged
        before = [s.tracker.n_clusters for s in sides]
        changed = [s.observe(c, gamma, gamma_prev) for s, c in zip(sides, (cr, cc), strict=True)]
        if any(changed):
            gammas.append(gamma)
            Us.append(state[0])
            after = [s.tracker.n_clusters for s in sides]
            merges.append((before[0] - after[0], before[1] - after[1]))
        if all(s.done for s in sides):
            break
        if stopped or n_iter >= max_iter:
            warnings.warn(
                f"{method} stopped at max_iter={max_iter} ADMM steps at γ={gamma:.4g} with "
                f"{sides[0].tracker.n_clusters} row and {sides[1].tracker.n_clusters} column "
                "clusters left; their merges are placed at that γ",
                ConvergenceWarning,
                stacklevel=2,
            )
            for s in sides:
                s.tracker.finish(gamma)
            break
        if method == "exact" or n_iter >= burn_in:
            gamma_prev, gamma = gamma, gamma * t
    m = np.array(merges, dtype=np.intp).reshape(-1, 2)
    return BiclusterPath(
        method=method,
        gammas=np.array(gammas),
        U=np.stack(Us),
        row_merges=m[:, 0],
        col_merges=m[:, 1],
        row_linkage=sides[0].tracker.linkage(),
        col_linkage=sides[1].tracker.linkage(),
        rows=rows,
        cols=cols,
        observed=split.observed,
        n_iter=n_iter,
        seconds=time.perf_counter() - start,
        t=t,
        finished=all(s.done for s in sides),
    )


def bicluster_path_errors(
    path: BiclusterPath,
    X: np.ndarray,
    fractions: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9),
    *,
    rho: float = 1.0,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray]:
    """``(gammas, ‖U_path − U*‖_F / ‖P_Ω X‖_F)`` at the first kept iterates by which these
    fractions of the n + p − 2 row and column merges have happened (U* by ADMM to ``tol``,
    warm-started); as :func:`.compare.path_errors` for the clustering path."""
    done = np.cumsum(path.row_merges + path.col_merges)
    wanted = np.asarray(fractions) * (path.rows.n + path.cols.n - 2)
    picks = sorted({int(i) for i in np.searchsorted(done, wanted, side="left")})
    split = BiSplitting(X, path.rows, path.cols, rho=rho)
    state = split.start()
    errors = []
    for k in picks:
        state, *_ = bi_admm_solve(split, float(path.gammas[k]), state, tol=tol, max_iter=10**6)
        errors.append(float(np.linalg.norm(path.U[k] - state[0])) / split.scale)
    return path.gammas[picks], np.array(errors)
