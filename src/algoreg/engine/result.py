"""The result of one trained trial."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATUSES = ("running", "converged", "max_steps", "diverged")
RUNNING, CONVERGED, MAX_STEPS, DIVERGED = range(4)


@dataclass
class FitResult:
    """Final matrix, factors, stopping status, final metrics and logged history of a trial.

    ``status`` is ``"converged"`` (train loss ≤ tol), ``"max_steps"`` or ``"diverged"``
    (non-finite or exploding loss; the factors are the last finite iterate). ``history`` maps
    each logged quantity to an array over log points (``history["step"]`` gives the steps).
    ``matrix`` is None for a large problem trained from sparse observations through the
    model's factors (``fit.DENSE_RESULT_MAX``): ``factors`` then hold the model.
    """

    matrix: np.ndarray | None
    factors: list[np.ndarray]
    status: str
    steps: int
    metrics: dict[str, float]
    history: dict[str, np.ndarray] = field(repr=False)
    wall_time: float
    seed: int
    config: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def test_error(self) -> float:
        return self.metrics["test_error"]

    @property
    def train_loss(self) -> float:
        return self.metrics["train_loss"]

    @property
    def effective_rank(self) -> float:
        return self.metrics["effective_rank"]

    @property
    def singular_values(self) -> np.ndarray:
        if self.matrix is None:
            raise ValueError(
                "this result holds factors, not the m × n matrix (too large to form): read "
                "the logged spectrum, history['singular_values'], instead"
            )
        return np.linalg.svd(self.matrix, compute_uv=False)

    @property
    def converged(self) -> bool:
        return self.status == "converged"
