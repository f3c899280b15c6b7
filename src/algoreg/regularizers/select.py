"""Which leaves of a parameter pytree a regularizer sees, and the matrix view of each.

Leaves are named by :func:`jax.tree_util.keystr` of their path (``"[0]['w']"``,
``".layers[1].weight"``) and chosen by ``select``:

* ``"weights"`` — floating leaves with ndim ≥ 2 (the default: biases and norms' scales are left
  out);
* ``"all"`` — every floating leaf (biases too; spectral and group kinds still need ndim ≥ 2);
* any other string — a regular expression, ``re.search``-ed in the leaf's path name;
* a callable ``(name, leaf) -> bool``.

Matrix view of a tensor (``layout``). Spectral and group regularizers see each tensor as a
matrix M of shape (out, in·k), k = product of the spatial sizes (k = 1 for a dense layer):

* ``"out_in"`` (default; PyTorch and Equinox): a dense weight is (out, in), a convolution kernel
  (out, in, *spatial), e.g. OIHW; M = w.reshape(out, -1).
* ``"in_out"`` (Flax / Haiku): a dense kernel is (in, out), a convolution kernel
  (*spatial, in, out), e.g. HWIO; the tensor is first permuted to (out, in, *spatial).

Both layouts give the same M for the same layer, so values agree across frameworks. Rows of M
are the output units / filters, and the input channel c is the column block M[:, c·k:(c+1)·k].
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_choice

Selector = str | Callable[[str, Any], bool]

LAYOUTS = ("out_in", "in_out")


# --------------------------------------------------------------------------------------------
# matrix views


def check_layout(layout: str) -> str:
    """``layout`` if it is one of :data:`LAYOUTS`, else a :class:`ConfigError`."""
    return check_choice("layout", layout, LAYOUTS)


def matrix_view(w: jax.Array, layout: str = "out_in") -> jax.Array:
    """The (out, in·k) matrix of a dense weight or convolution kernel (see module docstring)."""
    w = jnp.asarray(w)
    if w.ndim < 2:
        raise ConfigError(f"matrix_view needs ndim >= 2, got shape {w.shape}")
    if layout == "in_out":
        n = w.ndim
        w = jnp.transpose(w, (n - 1, n - 2, *range(n - 2)))
    return w.reshape(w.shape[0], -1)


def tensor_view(M: jax.Array, shape: tuple[int, ...], layout: str = "out_in") -> jax.Array:
    """Inverse of :func:`matrix_view`: the (out, in·k) matrix back to a tensor of ``shape``."""
    n = len(shape)
    if layout == "out_in":
        return M.reshape(shape)
    oi = (shape[-1], shape[-2], *shape[: n - 2])
    T = M.reshape(oi)
    return jnp.transpose(T, (*range(2, n), 1, 0))


def oik_view(w: jax.Array, layout: str) -> jax.Array:
    """(out, in, k) view: rows = output groups, middle axis = input-channel groups."""
    M = matrix_view(w, layout)
    if layout == "in_out":
        n_in = w.shape[-2]
    else:
        n_in = w.shape[1]
    return M.reshape(M.shape[0], n_in, -1)


# --------------------------------------------------------------------------------------------
# selection


def is_float_array(leaf: Any) -> bool:
    """Whether a leaf is a floating (real or complex) JAX or NumPy array."""
    return isinstance(leaf, jax.Array | np.ndarray) and jnp.issubdtype(leaf.dtype, jnp.inexact)


def selector(select: Selector) -> Callable[[str, Any], bool]:
    """The predicate ``(name, leaf) -> bool`` of a ``select`` setting (module docstring)."""
    if callable(select):
        return select
    if not isinstance(select, str):
        raise ConfigError(
            f"select must be 'weights', 'all', a regular expression or a callable, got {select!r}"
        )
    if select == "weights":
        return lambda name, leaf: leaf.ndim >= 2
    if select == "all":
        return lambda name, leaf: True
    try:
        pattern = re.compile(select)
    except re.error as err:
        raise ConfigError(f"select {select!r} is not a valid regular expression: {err}") from None
    return lambda name, leaf: pattern.search(name) is not None


def named_leaves(params: Any) -> list[tuple[str, Any]]:
    """(path name, leaf) for every leaf of a pytree, names by ``jax.tree_util.keystr``."""
    flat, _ = jax.tree_util.tree_flatten_with_path(params)
    return [(jax.tree_util.keystr(path), leaf) for path, leaf in flat]
