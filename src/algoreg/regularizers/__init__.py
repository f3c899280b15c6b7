"""Regularizers for any parameter pytree (JAX) and, via :mod:`algoreg.regularizers.torch`,
any ``torch.nn.Module``: per-matrix spectral ratio ‖W‖_*/‖W‖_F and its square, nuclear norm,
Hoyer, Hoyer-square, group-Hoyer-square, L1, group lasso, and the end-to-end-product variant.

>>> import algoreg.regularizers as rg
>>> reg = rg.get("hoyer_square", lam=1e-4)          # on every weight matrix / conv kernel
>>> loss = data_loss(params) + reg(params)            # doctest: +SKIP

Modules: :mod:`~.select` (which leaves, and their matrix view), :mod:`~.base` (the base class),
:mod:`~.elementwise` (L1, Hoyer, Hoyer-square), :mod:`~.group` (group lasso,
group-Hoyer-square), :mod:`~.spectral` (nuclear, ratio, ratio-square), :mod:`~.endtoend`.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, unknown_name
from .base import Regularizer
from .elementwise import L1, Hoyer, HoyerSquare
from .endtoend import EndToEnd
from .group import GROUPS, GroupHoyerSquare, GroupLasso
from .select import LAYOUTS, Selector, matrix_view, named_leaves, tensor_view
from .spectral import Nuclear, Ratio, RatioSquare

REGULARIZERS: dict[str, type[Regularizer]] = {
    c.name: c
    for c in (
        L1,
        GroupLasso,
        Hoyer,
        HoyerSquare,
        GroupHoyerSquare,
        Nuclear,
        Ratio,
        RatioSquare,
        EndToEnd,
    )
}


def get(name: str, **kw: Any) -> Regularizer:
    """A regularizer by name, e.g. ``get("hoyer_square", lam=1e-4, select="all")``.

    Names: l1, group_lasso, hoyer, hoyer_square, group_hoyer_square, nuclear, ratio,
    ratio_square, end_to_end. Keywords: lam, select, layout; group (group kinds); kind
    (end_to_end).
    """
    if name not in REGULARIZERS:
        raise unknown_name("regularizer", name, REGULARIZERS)
    try:
        return REGULARIZERS[name](**kw)
    except TypeError as err:
        raise ConfigError(f"regularizer {name!r}: {err}") from None


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
