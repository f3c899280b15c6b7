"""Matrix sensing: recover W* from linear measurements y_i = ⟨A_i, W*⟩."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_int, check_real, check_shape
from .base import Array, Problem, relative_error
from .truth import low_rank


class SensingProblem(Problem):
    """Measurements ``y_i = ⟨A_i, W*⟩ + noise`` with stacked matrices ``A`` (n_obs × m × n).

    Train loss: ``Σ_i (⟨A_i, W⟩ − y_i)² / n_obs``. Metrics: ``test_error`` = ``rel_error`` =
    ‖W − W*‖_F / ‖W*‖_F and ``mse`` = mean over entries of (W − W*)². Problems of one shape
    but different ``n_obs`` are batched by zero-padding the measurements (with zero weight).
    """

    kind = "sensing"

    def __init__(
        self,
        truth: np.ndarray,
        A: np.ndarray,
        y: np.ndarray | None = None,
        *,
        noise: float = 0.0,
        seed: int | None = None,
    ) -> None:
        truth = np.asarray(truth, dtype=np.float64)
        A = np.asarray(A, dtype=np.float64)
        if truth.ndim != 2:
            raise ConfigError(f"truth must be a 2-D matrix, got shape {truth.shape}")
        if A.ndim != 3 or A.shape[1:] != truth.shape:
            raise ConfigError(
                f"A must have shape (n_obs, {truth.shape[0]}, {truth.shape[1]}), got {A.shape}"
            )
        if A.shape[0] == 0:
            raise ConfigError("A holds no measurement; at least one is needed")
        y = np.einsum("kij,ij->k", A, truth) if y is None else np.asarray(y, dtype=np.float64)
        if y.shape != (A.shape[0],):
            raise ConfigError(f"y must have shape ({A.shape[0]},), got {y.shape}")
        self.truth, self.A, self.y = truth, A, y
        self.shape = truth.shape
        self.n_obs = A.shape[0]
        self.noise = float(noise)
        self.seed = seed

    def known_truth(self) -> np.ndarray:
        return self.truth

    def data(self) -> dict[str, np.ndarray]:
        return self._padded(self.n_obs)

    def _padded(self, size: int) -> dict[str, np.ndarray]:
        pad = size - self.n_obs
        return {
            "A": np.pad(self.A, ((0, pad), (0, 0), (0, 0))),
            "y": np.pad(self.y, (0, pad)),
            "weight": np.pad(np.ones(self.n_obs), (0, pad)),
            "truth": self.truth,
            "n_obs": np.asarray(float(self.n_obs)),
        }

    @classmethod
    def stack(cls, problems: Sequence[Problem]) -> dict[str, np.ndarray]:
        sensing = [p for p in problems if isinstance(p, SensingProblem)]
        if len(sensing) != len(problems):
            raise ConfigError("a sensing batch holds only sensing problems")
        size = max(p.n_obs for p in sensing)
        datas = [p._padded(size) for p in sensing]
        return {k: np.stack([d[k] for d in datas]) for k in datas[0]}

    @staticmethod
    def loss(W: Array, data: dict[str, Array]) -> Array:
        residual = jnp.einsum("kij,ij->k", data["A"], W) - data["y"]
        return jnp.sum(data["weight"] * residual**2) / data["n_obs"]

    @staticmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        diff = W - data["truth"]
        err = relative_error(diff, data["truth"])
        return {"test_error": err, "rel_error": err, "mse": jnp.mean(diff**2)}

    def __repr__(self) -> str:
        return f"SensingProblem(shape={self.shape}, n_obs={self.n_obs}, noise={self.noise})"


def check_sensing(
    shape: tuple[int, int],
    rank: int,
    n_obs: int,
    measurement_scale: float | None = None,
    noise: float = 0.0,
    seed: int = 0,
) -> dict:
    """Validated, normalized parameters of :func:`sensing` (no data is generated)."""
    m, n = check_shape("shape", shape)
    return {
        "shape": (m, n),
        "rank": check_int("rank", rank, low=1, high=min(m, n)),
        "n_obs": check_int("n_obs", n_obs, low=1),
        "measurement_scale": 1.0 / np.sqrt(m * n)
        if measurement_scale is None
        else check_real("measurement_scale", measurement_scale, low=0.0, low_open=True),
        "noise": check_real("noise", noise, low=0.0),
        "seed": check_int("seed", seed, low=0),
    }


def sensing(
    shape: tuple[int, int] = (100, 100),
    rank: int = 5,
    n_obs: int = 2000,
    *,
    measurement_scale: float | None = None,
    noise: float = 0.0,
    seed: int = 0,
) -> SensingProblem:
    """Synthetic sensing with i.i.d. Gaussian measurement matrices A_i ~ N(0, s²)^{m×n}.

    ``measurement_scale`` s defaults to 1/√(mn) — Arora et al.'s 1/n for square matrices — so
    that with the RMS-1 truth each measurement has unit variance. As in :func:`completion`,
    a fixed seed gives the same truth and nested measurement sets across ``n_obs``.
    """
    a = check_sensing(shape, rank, n_obs, measurement_scale, noise, seed)
    (m, n), n_obs = a["shape"], a["n_obs"]
    truth_ss, meas_ss, noise_ss = np.random.SeedSequence(a["seed"]).spawn(3)
    truth = low_rank((m, n), a["rank"], truth_ss)
    A = a["measurement_scale"] * np.random.default_rng(meas_ss).standard_normal((n_obs, m, n))
    y = np.einsum("kij,ij->k", A, truth)
    y = y + a["noise"] * np.random.default_rng(noise_ss).standard_normal(n_obs)
    return SensingProblem(truth, A, y, noise=a["noise"], seed=a["seed"])
