"""Ground-truth generators."""

from __future__ import annotations

import numpy as np

from ..errors import check_int, check_real, check_shape


def low_rank(
    shape: tuple[int, int],
    rank: int,
    seed: int | np.random.SeedSequence = 0,
    *,
    fro_norm: float | None = None,
) -> np.ndarray:
    """Random rank-``r`` matrix W* = U Vᵀ/√r with i.i.d. N(0, 1) ``U`` (m×r) and ``V`` (n×r).

    Following Arora et al. (2019) the result is rescaled to ‖W*‖_F = √(mn), so its root mean
    square entry is 1; pass ``fro_norm`` for another Frobenius norm.
    """
    m, n = check_shape("shape", shape)
    rank = check_int("rank", rank, low=1, high=min(m, n))
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((m, rank))
    V = rng.standard_normal((n, rank))
    W = U @ V.T / np.sqrt(rank)
    target = np.sqrt(m * n) if fro_norm is None else check_real("fro_norm", fro_norm, low=0)
    return W * (target / np.linalg.norm(W))
