"""The end-to-end regularizer: a spectral kind on the product of a linear stack's factors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from ..errors import ConfigError, unknown_name
from .base import Regularizer
from .select import is_float_array, matrix_view, tensor_view
from .spectral import SPECTRAL, Spectral


@dataclass(frozen=True)
class EndToEnd(Regularizer):
    """λ·R(W_L ⋯ W_2 W_1) for a purely linear stack — the matrix-completion case.

    The selected leaves, in pytree-flatten order, are the factors in the order they are applied
    to the input (first layer first); each is read as an (out, in) matrix in ``layout`` and the
    product is W = W_L ⋯ W_1. ``kind`` is a spectral regularizer name (``ratio``,
    ``ratio_square``, ``nuclear``). Gradient: with G = ∇R(W),
    ∂/∂W_j = (W_L ⋯ W_{j+1})ᵀ G (W_{j−1} ⋯ W_1)ᵀ.
    """

    kind: str = "ratio"

    name: ClassVar[str] = "end_to_end"
    degree: ClassVar[float | None] = None
    min_ndim: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind not in SPECTRAL:
            raise unknown_name("end-to-end kind", self.kind, SPECTRAL)

    @property
    def base(self) -> Spectral:
        return SPECTRAL[self.kind](lam=1.0, layout="out_in")

    def factors(self, params: Any) -> list[jax.Array]:
        """The (out, in) factor matrices, checked to chain."""
        sel = self.selected(params)
        mats = []
        for name, w in sel:
            if w.ndim != 2:
                raise ConfigError(
                    f"end_to_end needs dense (2-D) factors; parameter {name!r} has shape "
                    f"{tuple(w.shape)}"
                )
            mats.append(matrix_view(w, self.layout))
        for (n0, _), (n1, _), A, B in zip(sel, sel[1:], mats, mats[1:], strict=False):
            if B.shape[1] != A.shape[0]:
                raise ConfigError(
                    f"end_to_end factors do not chain: {n0!r} gives {A.shape[0]} outputs but "
                    f"{n1!r} takes {B.shape[1]} inputs (layout={self.layout!r})"
                )
        return mats

    def product(self, params: Any) -> jax.Array:
        """W = W_L ⋯ W_1."""
        mats = self.factors(params)
        W = mats[0]
        for A in mats[1:]:
            W = A @ W
        return W

    def __call__(self, params: Any) -> jax.Array:
        return self.lam * self.base.matrix_value(self.product(params))

    def per_tensor(self, params: Any) -> dict[str, float]:
        return {"end_to_end": float(self.base.matrix_value(self.product(params)))}

    def grad(self, params: Any) -> Any:
        mats = self.factors(params)
        W = mats[0]
        for A in mats[1:]:
            W = A @ W
        G = self.lam * self.base.matrix_grad(W)
        L = len(mats)
        grads = []
        for j in range(L):
            after = _chain(mats[j + 1 :], W.shape[0], W.dtype)  # W_L ⋯ W_{j+1}
            before = _chain(mats[:j], mats[j].shape[1], W.dtype)  # W_{j−1} ⋯ W_1
            grads.append(after.T @ G @ before.T)
        flat, treedef = jax.tree_util.tree_flatten(params)
        out, it = [], iter(grads)
        for leaf, f in zip(flat, self.mask(params), strict=True):
            if f:
                out.append(tensor_view(next(it), leaf.shape, self.layout))
            elif is_float_array(leaf):
                out.append(jnp.zeros_like(leaf))
            else:
                out.append(leaf)
        return jax.tree_util.tree_unflatten(treedef, out)


def _chain(mats: Sequence[jax.Array], n: int, dtype: Any) -> jax.Array:
    """mats[-1] ⋯ mats[0], or the n×n identity for an empty list."""
    if not mats:
        return jnp.eye(n, dtype=dtype)
    W = mats[0]
    for A in mats[1:]:
        W = A @ W
    return W
