"""Group regularizers on a matrix view: group lasso and group-Hoyer-square.

Groups are the rows of the (out, in·k) matrix view M (output units / conv filters) or its
column blocks (inputs of a dense weight / input channels of a conv kernel); see
:mod:`algoreg.regularizers.select`. In the closed-form gradients, w_g is group g's entries and
n_g = ‖w_g‖₂.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from ..errors import unknown_name
from .base import Regularizer, safe_div, safe_sqrt
from .select import oik_view, tensor_view

GROUPS = {
    "out": "out",
    "rows": "out",
    "filters": "out",
    "neurons": "out",
    "in": "in",
    "cols": "in",
    "columns": "in",
    "channels": "in",
}


@dataclass(frozen=True)
class _Grouped(Regularizer):
    """Groups of a matrix view: ``group="out"`` (rows / output units / conv filters) or
    ``"in"`` (columns of a dense weight / input channels of a conv kernel). Aliases: rows,
    filters, neurons → out; cols, columns, channels → in."""

    group: str = "out"
    min_ndim: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.group not in GROUPS:
            raise unknown_name("group", self.group, GROUPS)

    def _sq(self, w):
        """Per-group sums of squares, and the (out, in, k) view."""
        T = oik_view(w, self.layout)
        axes = (1, 2) if GROUPS[self.group] == "out" else (0, 2)
        return jnp.sum(T * T, axis=axes), T

    def _expand(self, g: jax.Array) -> jax.Array:
        """Per-group values broadcast against the (out, in, k) view."""
        return g[:, None, None] if GROUPS[self.group] == "out" else g[None, :, None]

    def _back(self, G_oik, w):
        return tensor_view(G_oik.reshape(G_oik.shape[0], -1), w.shape, self.layout)


@dataclass(frozen=True)
class GroupLasso(_Grouped):
    """Σ_g ‖w_g‖₂ (Yuan & Lin 2006; Wen et al. 2016), groups as in :class:`_Grouped`.

    Gradient w_g/n_g on each group (0 on a zero group).
    """

    name: ClassVar[str] = "group_lasso"
    degree: ClassVar[float | None] = 1.0

    def tensor_value(self, w):
        sq, _ = self._sq(w)
        return jnp.sum(safe_sqrt(sq))

    def tensor_grad(self, w):
        sq, T = self._sq(w)
        n = safe_sqrt(sq)
        return self._back(safe_div(T, self._expand(n)), w)


@dataclass(frozen=True)
class GroupHoyerSquare(_Grouped):
    """(Σ_g ‖w_g‖₂)² / Σ_g ‖w_g‖₂² ∈ [1, #groups] (DeepHoyer's group-H_S); scale-invariant.

    Gradient 2(Σn)·w_g/(n_g‖w‖²) − 2(Σn)²·w/‖w‖⁴.
    """

    name: ClassVar[str] = "group_hoyer_square"
    degree: ClassVar[float | None] = 0.0

    def tensor_value(self, w):
        sq, _ = self._sq(w)
        a = jnp.sum(safe_sqrt(sq))
        return safe_div(a * a, jnp.sum(sq))

    def tensor_grad(self, w):
        sq, T = self._sq(w)
        n = safe_sqrt(sq)
        a, b = jnp.sum(n), jnp.sum(sq)
        G = safe_div(2.0 * a * T, self._expand(n) * b) - safe_div(2.0 * a * a * T, b * b)
        return self._back(G, w)
