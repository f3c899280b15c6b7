"""Matrix completion: recover W* from a subset Ω of its entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_int, check_real, check_shape
from .base import Array, Problem, relative_error
from .truth import check_sampled_low_rank, low_rank

if TYPE_CHECKING:
    from .sparse import SparseCompletionProblem


class CompletionProblem(Problem):
    """Observed entries ``M_ij = W*_ij + noise`` for (i, j) in Ω (a boolean ``mask``).

    Train loss: mean squared error over Ω, ``Σ_Ω (W − M)² / |Ω|``. Metrics:
    ``test_error`` = ‖P_Ωᶜ(W − W*)‖_F / ‖P_Ωᶜ(W*)‖_F (NaN when every entry is observed),
    ``rel_error`` = ‖W − W*‖_F / ‖W*‖_F, ``mse`` = mean over all entries of (W − W*)², and
    ``unobserved_abs_max`` = max |W_ij| over the unobserved entries (Razin & Cohen's
    quantity; 0 when every entry is observed). With ``truth=None`` (a matrix with missing
    entries and no known truth) ``observed`` is required and the truth-based metrics are NaN.

    An optional validation set V (``val_mask``, disjoint from Ω, observed but never trained
    on) gives ``val_error`` = ‖P_V(W − M)‖_F / ‖P_V(M)‖_F, for choosing hyper-parameters
    such as λ without touching the test entries; ``test_error`` is then taken on (Ω ∪ V)ᶜ.
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
        val_mask: np.ndarray | None = None,
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
        val_mask = np.zeros_like(mask) if val_mask is None else np.asarray(val_mask, dtype=bool)
        if val_mask.shape != mask.shape or np.any(val_mask & mask):
            raise ConfigError("val_mask must have the mask's shape and share no entry with it")
        if observed is None:
            observed = truth
        observed = np.where(mask | val_mask, np.asarray(observed, dtype=np.float64), 0.0)
        if observed.shape != truth.shape or not np.all(np.isfinite(observed)):
            raise ConfigError("observed must be a finite matrix of the truth's shape")
        self.truth, self.mask, self.observed, self.val_mask = truth, mask, observed, val_mask
        self.shape = truth.shape
        self.n_obs = int(mask.sum())
        self.noise = float(noise)
        self.seed = seed

    def known_truth(self) -> np.ndarray | None:
        return self.truth if self.has_truth else None

    def data(self) -> dict[str, np.ndarray]:
        return {
            "mask": self.mask.astype(np.float64),
            "val_mask": self.val_mask.astype(np.float64),
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
        unobserved = 1.0 - data["mask"] - data["val_mask"]
        known = data["has_truth"] > 0
        out = {
            "test_error": relative_error(unobserved * diff, unobserved * data["truth"]),
            "rel_error": relative_error(diff, data["truth"]),
            "mse": jnp.mean(diff**2),
        }
        out = {k: jnp.where(known, v, jnp.nan) for k, v in out.items()}
        out["unobserved_abs_max"] = jnp.max(unobserved * jnp.abs(W))
        V = data["val_mask"]
        out["val_error"] = relative_error(V * (W - data["observed"]), V * data["observed"])
        return out

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
    shape: tuple[int, int],
    rank: int,
    n_obs: int,
    noise: float = 0.0,
    validation: float = 0.0,
    seed: int = 0,
) -> dict:
    """Validated, normalized parameters of :func:`completion` (no data is generated)."""
    return check_sampled_low_rank(shape, rank, n_obs, noise, validation, seed)


def completion(
    shape: tuple[int, int] = (100, 100),
    rank: int = 5,
    n_obs: int = 2000,
    *,
    noise: float = 0.0,
    validation: float = 0.0,
    seed: int = 0,
) -> CompletionProblem | SparseCompletionProblem:
    """Synthetic completion: Arora et al.'s rank-``rank`` truth, ``n_obs`` uniform entries.

    ``seed`` fixes the truth, the sampling order and the noise through independent streams
    (``SeedSequence(seed).spawn(3)``): the same seed with different ``n_obs`` gives the same
    truth and nested observation sets. ``validation`` holds out that fraction of the ``n_obs``
    observed entries as a validation set (observed, never trained on).

    Storage: a dense mask up to m·n = :data:`~algoreg.problems.sparse.DENSE_MAX_ENTRIES`
    entries; above it the problem is :func:`~algoreg.problems.sparse.sparse_completion`'s
    (index arrays, truth kept as factors, test error on held-out sampled entries; its own
    random streams, so not nested in n_obs).
    """
    from .sparse import DENSE_MAX_ENTRIES, sparse_completion

    a = check_completion(shape, rank, n_obs, noise, validation, seed)
    if a["shape"][0] * a["shape"][1] > DENSE_MAX_ENTRIES:
        return sparse_completion(
            a["shape"], a["rank"], a["n_obs"], noise=a["noise"], validation=a["validation"],
            seed=a["seed"],
        )  # fmt: skip
    truth_ss, mask_ss, noise_ss = np.random.SeedSequence(a["seed"]).spawn(3)
    truth = low_rank(a["shape"], a["rank"], truth_ss)
    observed_set = uniform_mask(a["shape"], a["n_obs"], mask_ss)
    n_val = round(a["validation"] * a["n_obs"])
    val_mask = observed_set & ~uniform_mask(a["shape"], a["n_obs"] - n_val, mask_ss)
    observed = truth + a["noise"] * np.random.default_rng(noise_ss).standard_normal(a["shape"])
    return CompletionProblem(
        truth,
        observed_set & ~val_mask,
        observed,
        noise=a["noise"],
        seed=a["seed"],
        val_mask=val_mask,
    )


def check_entries(shape: tuple[int, int], observed: list, seed: int = 0) -> dict:
    """Validated parameters of :func:`entries`: ``observed`` is a list of ``[i, j, value]``
    (0-based row, column; each position at most once)."""
    m, n = check_shape("shape", shape)
    if not isinstance(observed, (list, tuple)) or not observed:
        raise ConfigError(f"observed must be a non-empty list of [i, j, value], got {observed!r}")
    out, seen = [], set()
    for k, item in enumerate(observed):
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise ConfigError(f"observed[{k}] must be [i, j, value], got {item!r}")
        i = check_int(f"observed[{k}] row", item[0], low=0, high=m - 1)
        j = check_int(f"observed[{k}] column", item[1], low=0, high=n - 1)
        value = check_real(f"observed[{k}] value", item[2])
        if (i, j) in seen:
            raise ConfigError(f"observed[{k}]: entry ({i}, {j}) is given twice")
        seen.add((i, j))
        out.append([i, j, value])
    return {"shape": (m, n), "observed": out, "seed": check_int("seed", seed, low=0)}


def entries(shape: tuple[int, int], observed: list, *, seed: int = 0) -> CompletionProblem:
    """Completion of a matrix given by a few explicit entries and no known truth, e.g.
    Razin & Cohen's (2020) 2 × 2 problem ``observed = [[0, 1, 1], [1, 0, 1], [1, 1, 0]]``
    (``seed`` is accepted for study files and unused: the problem is deterministic)."""
    a = check_entries(shape, observed, seed)
    mask = np.zeros(a["shape"], dtype=bool)
    values = np.zeros(a["shape"])
    for i, j, v in a["observed"]:
        mask[i, j], values[i, j] = True, v
    return CompletionProblem(None, mask, values, seed=a["seed"])
