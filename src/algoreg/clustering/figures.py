"""Figures of a clustering path (needs the ``plot`` extra): the dendrogram of its linkage, and
the path itself on the first two principal components of the data.

The path view projects every kept iterate U(γ) on the principal axes of X (the centered data's
two leading right singular vectors): each observation's trajectory starts at its data point
(γ = 0, a dot) and ends where it has fused with the others; rows that share a cluster of the
cut are drawn in one colour, and their trajectories join where they fuse (a cross marks the
iterate where the cut's clusters first exist).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .bicluster import BiclusterPath
from .data import principal_axes
from .path import ClusterPath

MAX_LEAF_LABELS = 60  # more leaves than this are drawn without names


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _log_heights(linkage: np.ndarray) -> tuple[np.ndarray, float]:
    """The linkage with heights log10(γ) − log10(floor) over at most four decades below the
    last merge (merges below the floor, e.g. of duplicate rows, drawn at it); and the floor."""
    Z = linkage.copy()
    positive = Z[:, 2][Z[:, 2] > 0]
    floor = max(positive.min() / 2, positive.max() * 1e-4) if positive.size else 1.0
    log_floor = float(np.log10(floor))
    Z[:, 2] = np.log10(np.maximum(Z[:, 2], floor)) - log_floor  # γ spans decades
    return Z, log_floor


def dendrogram_figure(
    path: ClusterPath,
    out: str | Path,
    *,
    n_clusters: int | None = None,
    names: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """SciPy's dendrogram of ``path.linkage`` (heights: γ on a log scale over at most four
    decades below the last merge), coloured by the cut at ``n_clusters``; leaf names when
    there are at most :data:`MAX_LEAF_LABELS`."""
    title = title or f"{path.method} dendrogram (t = {path.t:g})"
    return linkage_figure(path.linkage, out, n_clusters=n_clusters, names=names, title=title)


def linkage_figure(
    linkage: np.ndarray,
    out: str | Path,
    *,
    n_clusters: int | None = None,
    names: Sequence[str] | None = None,
    title: str = "",
    what: str = "observations",
) -> Path:
    """The dendrogram of any path linkage (heights in γ), as :func:`dendrogram_figure`."""
    from scipy.cluster.hierarchy import dendrogram

    plt = _pyplot()
    Z, log_floor = _log_heights(linkage)
    n = len(Z) + 1
    threshold = None
    if n_clusters is not None and 1 < n_clusters <= n:
        h = np.sort(Z[:, 2])
        threshold = (h[n - n_clusters - 1] + h[n - n_clusters]) / 2
    show_names = names is not None and n <= MAX_LEAF_LABELS
    fig, ax = plt.subplots(figsize=(max(6.0, 0.18 * n if show_names else 8.0), 4.5))
    dendrogram(
        Z,
        ax=ax,
        color_threshold=threshold,
        labels=list(names) if show_names and names is not None else None,
        no_labels=not show_names,
        above_threshold_color="0.55",
        leaf_font_size=7,
    )
    decades = np.arange(np.ceil(log_floor), np.ceil(log_floor + Z[:, 2].max()) + 1)
    ax.set_yticks(decades - log_floor, [f"$10^{{{int(d)}}}$" for d in decades])
    ax.set_ylabel("γ at the merge")
    ax.set_xlabel(f"{n} {what}" + ("" if show_names else " (leaves)"))
    if threshold is not None:
        ax.axhline(threshold, color="k", lw=0.8, ls="--")
    ax.set_title(title)
    fig.tight_layout()
    return _save(plt, fig, out)


def heatmap_figure(
    path: BiclusterPath,
    out: str | Path,
    *,
    n_row_clusters: int = 2,
    n_col_clusters: int = 2,
    level: int | None = None,
    row_names: Sequence[str] | None = None,
    col_names: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """The cluster heat map of a biclustering path: U at kept iterate ``level`` (default: the
    first with the cuts' numbers of clusters, :meth:`BiclusterPath.level`), its rows and
    columns in the order of the row and column dendrograms (drawn beside it, heights γ on a
    log scale), lines between the clusters of the cuts; names when at most
    :data:`MAX_LEAF_LABELS`."""
    from scipy.cluster.hierarchy import dendrogram

    plt = _pyplot()
    if level is None:
        level = path.level(n_row_clusters, n_col_clusters)
    Zr, _ = _log_heights(path.row_linkage)
    Zc, _ = _log_heights(path.col_linkage)
    n, p = path.U.shape[1:]
    fig = plt.figure(figsize=(min(5 + 0.12 * p, 16), min(3.5 + 0.14 * n, 14)))
    named = row_names is not None and n <= MAX_LEAF_LABELS
    grid = fig.add_gridspec(
        2, 4, width_ratios=[1.2, 5, 1.1 if named else 0.1, 0.2], height_ratios=[1.2, 5]
    )
    ax_top, ax_left = fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 0])
    ax, ax_bar = fig.add_subplot(grid[1, 1]), fig.add_subplot(grid[1, 3])
    ax.yaxis.tick_right()
    kw = {"no_labels": True, "color_threshold": 0, "above_threshold_color": "0.4"}
    cols = dendrogram(Zc, ax=ax_top, **kw)["leaves"]
    rows = dendrogram(Zr, ax=ax_left, orientation="left", **kw)["leaves"]
    rows = rows[::-1]  # the left dendrogram's first leaf is at the bottom
    for a in (ax_top, ax_left):
        a.set_axis_off()
    U = path.U[level][np.ix_(rows, cols)]
    lim = float(np.abs(U).max()) or 1.0
    image = ax.imshow(U, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim)
    for labels, order, line in (
        (path.row_cut(n_row_clusters), rows, ax.axhline),
        (path.col_cut(n_col_clusters), cols, ax.axvline),
    ):
        ordered = labels[order]
        for b in np.flatnonzero(ordered[1:] != ordered[:-1]):
            line(b + 0.5, color="k", lw=0.8)
    for names, size, setter in (
        (row_names, n, ax.set_yticks),
        (col_names, p, ax.set_xticks),
    ):
        if names is not None and size <= MAX_LEAF_LABELS:
            order = rows if setter == ax.set_yticks else cols
            setter(np.arange(size), [str(names[i]) for i in order], fontsize=6)
        else:
            setter([])
    if col_names is not None and p <= MAX_LEAF_LABELS:
        ax.tick_params(axis="x", labelrotation=90)
    fig.colorbar(image, cax=ax_bar)
    gamma = path.gammas[level]
    fig.suptitle(
        (title or f"{path.method} biclustering (t = {path.t:g})")
        + f"\nU at γ = {gamma:.3g}: {n_row_clusters} row × {n_col_clusters} column clusters",
        fontsize=9,
    )
    return _save(plt, fig, out)


def path_figure(
    path: ClusterPath,
    out: str | Path,
    *,
    labels: np.ndarray | None = None,
    title: str = "",
) -> Path:
    """The path on the first two principal components (see the module); ``labels`` colour
    the rows (default: the hierarchy's 2-cluster cut)."""
    plt = _pyplot()
    mean, axes, share = principal_axes(path.U[0])
    P = (path.U - mean) @ axes  # kept iterates × n × 2
    colours = labels if labels is not None else path.cut(min(2, path.graph.n))
    _, colours = np.unique(colours, return_inverse=True)
    cmap = plt.get_cmap("tab10" if colours.max() < 10 else "tab20")
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for i in range(P.shape[1]):
        ax.plot(P[:, i, 0], P[:, i, 1], color=cmap(colours[i] % cmap.N), lw=0.8, alpha=0.6)
    ax.scatter(P[0, :, 0], P[0, :, 1], c=[cmap(c % cmap.N) for c in colours], s=14, zorder=3)
    k = int(colours.max()) + 1
    at = _first_with(path, k)
    ax.scatter(P[at, :, 0], P[at, :, 1], marker="x", c="k", s=22, lw=0.8, zorder=4)
    ax.set_xlabel(f"PC1 ({100 * share[0]:.0f}% of the variance)")
    if path.U.shape[2] > 1:
        ax.set_ylabel(f"PC2 ({100 * share[1]:.0f}% of the variance)")
    head = title or f"{path.method} path (t = {path.t:g})"
    ax.set_title(f"{head}\ndots: the data (γ = 0); ×: the first level with {k} clusters")
    fig.tight_layout()
    return _save(plt, fig, out)


def _first_with(path: ClusterPath, k: int) -> int:
    """The first kept iterate at which the hierarchy has at most ``k`` clusters."""
    left = path.graph.n - np.cumsum(path.merges)
    return int(np.argmax(left <= k)) if (left <= k).any() else len(left) - 1


def _save(plt: Any, fig: Any, out: str | Path) -> Path:
    """Write ``fig`` to ``out`` (PNG at 150 dpi) and close it."""
    out = Path(out)
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out
