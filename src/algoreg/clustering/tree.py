"""From a fusion path to a hierarchy: merges, a SciPy linkage matrix and cuts.

Along a path the fused edges (V_l = 0) define clusters as connected components. In the raw
CARP path an edge can unfuse later, so the partitions need not nest; the hierarchy records
each pair of clusters at the first level where a fused edge joins them and never splits them
again (the union of all fusions so far). A step that fuses several pairs at once is split into
single merges ordered by each edge's critical level γ*_l (the smallest γ at which that step
fuses it), at heights γ*_l clipped to the step's interval [γ_prev, γ]: heights never decrease.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, check_int, check_real


class MergeTracker:
    """Union of clusters along a path, recorded as SciPy linkage rows [a, b, height, size]."""

    def __init__(self, n: int, edges: np.ndarray):
        self.n = n
        self.src, self.dst = edges[:, 0], edges[:, 1]
        self.comp = np.arange(n)  # SciPy cluster id of each observation's current cluster
        self.sizes = [1] * n
        self.rows: list[list[float]] = []

    @property
    def n_clusters(self) -> int:
        return self.n - len(self.rows)

    def candidates(self, fused: np.ndarray, crit: np.ndarray) -> np.ndarray:
        """Fused edges joining two different clusters, by increasing critical level."""
        idx = np.flatnonzero(fused & (self.comp[self.src] != self.comp[self.dst]))
        return idx[np.argsort(crit[idx], kind="stable")]

    def count(self, idx: np.ndarray) -> int:
        """How many merges the edges ``idx`` would make (nothing is recorded)."""
        parent: dict[int, int] = {}

        def find(a: int) -> int:
            while parent.get(a, a) != a:
                a = parent[a]
            return a

        merges = 0
        for e in idx:
            a, b = find(int(self.comp[self.src[e]])), find(int(self.comp[self.dst[e]]))
            if a != b:
                parent[a] = b
                merges += 1
        return merges

    def merge(self, idx: np.ndarray, heights: np.ndarray) -> int:
        """Merge along the edges ``idx`` in order at the given heights; returns the merges."""
        before = len(self.rows)
        for e, h in zip(idx, heights, strict=True):
            a, b = int(self.comp[self.src[e]]), int(self.comp[self.dst[e]])
            if a != b:
                self._join(a, b, float(h))
        return len(self.rows) - before

    def _join(self, a: int, b: int, height: float) -> None:
        new = self.n + len(self.rows)
        size = self.sizes[a] + self.sizes[b]
        self.rows.append([min(a, b), max(a, b), height, size])
        self.sizes.append(size)
        self.comp[(self.comp == a) | (self.comp == b)] = new

    def finish(self, height: float) -> None:
        """Join whatever clusters remain, all at ``height`` (for a path stopped early)."""
        while self.n_clusters > 1:
            ids = np.unique(self.comp)
            self._join(int(ids[0]), int(ids[1]), height)

    def linkage(self) -> np.ndarray:
        return np.array(self.rows, dtype=np.float64).reshape(-1, 4)


def cut_linkage(
    linkage: np.ndarray, n_clusters: int | None = None, *, height: float | None = None
) -> np.ndarray:
    """Labels 0…k−1 (numbered by first appearance) after the first n − ``n_clusters`` merges,
    or after every merge at height ≤ ``height``; exactly one of the two is given."""
    n = len(linkage) + 1
    if (n_clusters is None) == (height is None):
        raise ConfigError("give exactly one of n_clusters and height")
    if n_clusters is not None:
        n_merges = n - check_int("n_clusters", n_clusters, low=1, high=n)
    else:
        height = check_real("height", height)
        n_merges = int(np.searchsorted(linkage[:, 2], height, side="right"))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    for r in range(n_merges):
        a, b = int(linkage[r, 0]), int(linkage[r, 1])
        members[n + r] = members.pop(a) + members.pop(b)
    labels = np.empty(n, dtype=np.intp)
    for label, points in enumerate(sorted(members.values(), key=min)):
        labels[points] = label
    return labels
