"""The problem contract shared by every recovery task.

A problem knows the ground truth and the observation operator. For the engine it exposes
fixed-shape arrays (``data``) and two pure JAX functions of the end-to-end matrix ``W`` and those
arrays: ``loss`` (the data-fit objective that training minimises and ``tol`` is compared with)
and ``metrics`` (scalars reported in results and history). Problems whose ``signature`` is equal
can be stacked along a leading trial axis and trained as one batched program.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import jax.numpy as jnp
import numpy as np

Array = Any  # a numpy or jax array


def relative_error(diff: Array, ref: Array) -> Array:
    """‖diff‖_F / ‖ref‖_F, NaN when ``ref`` is zero (the error is then undefined)."""
    num = jnp.sqrt(jnp.sum(diff**2))
    den = jnp.sqrt(jnp.sum(ref**2))
    return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.nan)


class Problem(ABC):
    """A recovery problem: truth, observations, data-fit loss and test metrics."""

    kind: ClassVar[str]
    shape: tuple[int, int]
    n_obs: int

    @abstractmethod
    def data(self) -> dict[str, np.ndarray]:
        """Fixed-shape arrays the engine passes to ``loss`` and ``metrics``."""

    @staticmethod
    @abstractmethod
    def loss(W: Array, data: dict[str, Array]) -> Array:
        """Data-fit loss (scalar) of the end-to-end matrix ``W``."""

    @staticmethod
    @abstractmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        """Test metrics of ``W``; always includes ``test_error``."""

    def known_truth(self) -> np.ndarray | None:
        """The ground-truth matrix W* (float64) when the problem knows it, else None (real data)."""
        return None

    def history_metrics(self, history: dict[str, Any], model: Any, optimizer: Any) -> dict:
        """Scalars read off a finished trial's logged ``history`` (e.g. when a component
        switched on), given its model and optimizer; none by default."""
        return {}

    def signature(self) -> tuple:
        """Problems with equal signatures can share one batched program."""
        return (type(self).__name__, self.shape)

    @classmethod
    def stack(cls, problems: Sequence[Problem]) -> dict[str, np.ndarray]:
        """Stack the ``data`` of compatible problems along a new leading trial axis."""
        datas = [p.data() for p in problems]
        return {k: np.stack([d[k] for d in datas]) for k in datas[0]}

    def evaluate(self, W: Array) -> dict[str, float]:
        """All metrics of a matrix ``W`` (NumPy in, floats out)."""
        data = {k: jnp.asarray(v) for k, v in self.data().items()}
        floats = [v.dtype for v in data.values() if jnp.issubdtype(v.dtype, jnp.floating)]
        W = jnp.asarray(W, dtype=floats[0])
        out = {"train_loss": self.loss(W, data), **self.metrics(W, data)}
        return {k: float(v) for k, v in out.items()}
