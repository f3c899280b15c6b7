"""Ground-truth generators."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError, check_int, check_real, check_shape


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


def check_sampled_low_rank(
    shape: Any, rank: Any, n_obs: Any, noise: Any, validation: Any, seed: Any
) -> dict[str, Any]:
    """Checked settings of a rank-``rank`` truth seen through ``n_obs`` of its entries, a share
    ``validation`` of them held out (the synthetic completion problems, dense or sparse)."""
    m, n = check_shape("shape", shape)
    out: dict[str, Any] = {
        "shape": (m, n),
        "rank": check_int("rank", rank, low=1, high=min(m, n)),
        "n_obs": check_int("n_obs", n_obs, low=1, high=m * n),
        "noise": check_real("noise", noise, low=0.0),
        "validation": check_real("validation", validation, low=0.0, high=1.0, high_open=True),
        "seed": check_int("seed", seed, low=0),
    }
    if out["n_obs"] - round(out["validation"] * out["n_obs"]) < 1:
        raise ConfigError(f"validation={validation} leaves no training entry of n_obs={n_obs}")
    return out
