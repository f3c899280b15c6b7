"""Regularizers for any parameter pytree (JAX) and, via :mod:`algoreg.regularizers.torch`,
any ``torch.nn.Module``: per-matrix spectral ratio ‖W‖_*/‖W‖_F and its square, nuclear norm,
Hoyer, Hoyer-square, group-Hoyer-square, L1, group lasso, and the end-to-end-product variant.

>>> import algoreg.regularizers as rg
>>> reg = rg.get("hoyer_square", lam=1e-4)          # on every weight matrix / conv kernel
>>> loss = data_loss(params) + reg(params)            # doctest: +SKIP
"""

from .core import (
    GROUPS,
    L1,
    LAYOUTS,
    REGULARIZERS,
    EndToEnd,
    GroupHoyerSquare,
    GroupLasso,
    Hoyer,
    HoyerSquare,
    Nuclear,
    Ratio,
    RatioSquare,
    Regularizer,
    Selector,
    get,
    matrix_view,
    named_leaves,
    tensor_view,
)

__all__ = [
    "GROUPS",
    "L1",
    "LAYOUTS",
    "REGULARIZERS",
    "EndToEnd",
    "GroupHoyerSquare",
    "GroupLasso",
    "Hoyer",
    "HoyerSquare",
    "Nuclear",
    "Ratio",
    "RatioSquare",
    "Regularizer",
    "Selector",
    "get",
    "matrix_view",
    "named_leaves",
    "tensor_view",
]
