"""How far a computed path is from the exact convex clustering solutions.

At the levels γ_j of the first kept iterates by which a fraction f_j (``fractions``) of the
n − 1 merges of the path has happened, the exact minimizer U*(γ_j) is found by ADMM to
``tol`` (warm-started from the previous level) and the error is ‖U_path(γ_j) − U*(γ_j)‖_F /
‖X‖_F. Weylandt et al. prove CARP's iterates approach the exact path as t → 1.
"""

from __future__ import annotations

import numpy as np

from .admm import Splitting, admm_solve
from .path import ClusterPath

FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)


def path_errors(
    path: ClusterPath,
    X: np.ndarray,
    fractions: tuple[float, ...] = FRACTIONS,
    *,
    rho: float = 1.0,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray]:
    """``(gammas, relative errors)`` of ``path`` against the exact solutions (see the
    module); levels shared by two fractions are compared once."""
    done = np.cumsum(path.merges)
    wanted = np.asarray(fractions) * (path.graph.n - 1)
    picks = sorted({int(i) for i in np.searchsorted(done, wanted, side="left")})
    split = Splitting(X, path.graph, q=path.q, rho=rho)
    state = split.start()
    scale = max(float(np.linalg.norm(X)), 1e-300)
    errors = []
    for k in picks:
        state, _, _, _ = admm_solve(split, float(path.gammas[k]), state, tol=tol, max_iter=10**6)
        errors.append(float(np.linalg.norm(path.U[k] - state[0])) / scale)
    return path.gammas[picks], np.array(errors)
