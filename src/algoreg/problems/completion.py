"""Matrix completion: recover W* from a subset Ω of its entries."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_int, check_real, check_shape
from .base import Array, Problem, relative_error
from .truth import low_rank


class CompletionProblem(Problem):
    """Observed entries ``M_ij = W*_ij + noise`` for (i, j) in Ω (a boolean ``mask``).

    Train loss: mean squared error over Ω, ``Σ_Ω (W − M)² / |Ω|``. Metrics:
    ``test_error`` = ‖P_Ωᶜ(W − W*)‖_F / ‖P_Ωᶜ(W*)‖_F (NaN when every entry is observed),
    ``rel_error`` = ‖W − W*‖_F / ‖W*‖_F and ``mse`` = mean over all entries of (W − W*)².
    With ``truth=None`` (a matrix with missing entries and no known truth) ``observed`` is
    required and the truth-based metrics are NaN.
    """

    kind = "completion"

    def __init__(
        self,
        truth: np.ndarray | None,
        mask: np.ndarray,
        observed: np.ndarray | None = None,
        *,
        noise: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.has_truth = truth is not None
        if truth is None:
            if observed is None:
                raise ConfigError("observed is required when the truth is unknown (truth=None)")
            truth = np.zeros(np.shape(observed))
        truth = np.asarray(truth, dtype=np.float64)
        mask = np.asarray(mask)
        if truth.ndim != 2:
            raise ConfigError(f"truth must be a 2-D matrix, got shape {truth.shape}")
        if not np.all(np.isfinite(truth)):
            raise ConfigError("truth contains non-finite entries")
        if mask.shape != truth.shape:
            raise ConfigError(f"mask shape {mask.shape} differs from truth shape {truth.shape}")
        if mask.dtype != bool:
            if not np.all((mask == 0) | (mask == 1)):
                raise ConfigError("mask must be boolean (or 0/1)")
            mask = mask.astype(bool)
        if not mask.any():
            raise ConfigError("mask observes no entry; at least one observation is needed")
        if observed is None:
            observed = truth
        observed = np.where(mask, np.asarray(observed, dtype=np.float64), 0.0)
        if observed.shape != truth.shape or not np.all(np.isfinite(observed)):
            raise ConfigError("observed must be a finite matrix of the truth's shape")
        self.truth, self.mask, self.observed = truth, mask, observed
        self.shape = truth.shape
        self.n_obs = int(mask.sum())
        self.noise = float(noise)
        self.seed = seed

    def data(self) -> dict[str, np.ndarray]:
        return {
            "mask": self.mask.astype(np.float64),
            "observed": self.observed,
            "truth": self.truth,
            "n_obs": np.asarray(float(self.n_obs)),
            "has_truth": np.asarray(float(self.has_truth)),
        }

    @staticmethod
    def loss(W: Array, data: dict[str, Array]) -> Array:
        return jnp.sum(data["mask"] * (W - data["observed"]) ** 2) / data["n_obs"]

    @staticmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        diff = W - data["truth"]
        unobserved = 1.0 - data["mask"]
        known = data["has_truth"] > 0
        out = {
            "test_error": relative_error(unobserved * diff, unobserved * data["truth"]),
            "rel_error": relative_error(diff, data["truth"]),
            "mse": jnp.mean(diff**2),
        }
        return {k: jnp.where(known, v, jnp.nan) for k, v in out.items()}

    def __repr__(self) -> str:
        return f"CompletionProblem(shape={self.shape}, n_obs={self.n_obs}, noise={self.noise})"


def uniform_mask(shape: tuple[int, int], n_obs: int, seed) -> np.ndarray:
    """Boolean mask with ``n_obs`` entries drawn uniformly without replacement.

    The entries are a prefix of one random permutation, so for a fixed seed the masks are
    nested: a larger ``n_obs`` observes a superset of a smaller one.
    """
    m, n = shape
    order = np.random.default_rng(seed).permutation(m * n)
    mask = np.zeros(m * n, dtype=bool)
    mask[order[:n_obs]] = True
    return mask.reshape(m, n)


def check_completion(
    shape: tuple[int, int], rank: int, n_obs: int, noise: float = 0.0, seed: int = 0
) -> dict:
    """Validated, normalized parameters of :func:`completion` (no data is generated)."""
    m, n = check_shape("shape", shape)
    return {
        "shape": (m, n),
        "rank": check_int("rank", rank, low=1, high=min(m, n)),
        "n_obs": check_int("n_obs", n_obs, low=1, high=m * n),
        "noise": check_real("noise", noise, low=0.0),
        "seed": check_int("seed", seed, low=0),
    }


def completion(
    shape: tuple[int, int] = (100, 100),
    rank: int = 5,
    n_obs: int = 2000,
    *,
    noise: float = 0.0,
    seed: int = 0,
) -> CompletionProblem:
    """Synthetic completion: Arora et al.'s rank-``rank`` truth, ``n_obs`` uniform entries.

    ``seed`` fixes the truth, the sampling order and the noise through independent streams
    (``SeedSequence(seed).spawn(3)``): the same seed with different ``n_obs`` gives the same
    truth and nested observation sets.
    """
    a = check_completion(shape, rank, n_obs, noise, seed)
    truth_ss, mask_ss, noise_ss = np.random.SeedSequence(a["seed"]).spawn(3)
    truth = low_rank(a["shape"], a["rank"], truth_ss)
    mask = uniform_mask(a["shape"], a["n_obs"], mask_ss)
    observed = truth + a["noise"] * np.random.default_rng(noise_ss).standard_normal(a["shape"])
    return CompletionProblem(truth, mask, observed, noise=a["noise"], seed=a["seed"])
