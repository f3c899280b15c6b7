"""Pruning: element-wise magnitude masks and low-rank truncation of weight matrices."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_real
from ..regularizers import L1, Selector, matrix_view, named_leaves, tensor_view


def prune(
    params: Any,
    *,
    select: Selector = "weights",
    sensitivity: float | None = None,
    threshold: float | None = None,
) -> tuple[Any, Any]:
    """Zero small entries of the selected tensors; returns (pruned params, 0/1 mask).

    Per-tensor threshold τ_t = ``sensitivity``·std(w_t) (Han et al. 2015; DeepHoyer), or the
    fixed ``threshold``; entries with |w| ≤ τ_t are set to 0 (mask 0). Unselected leaves keep
    mask 1. Exactly one of the two must be given.
    """
    if (sensitivity is None) == (threshold is None):
        raise ConfigError("prune needs exactly one of sensitivity= or threshold=")
    if sensitivity is not None:
        check_real("sensitivity", sensitivity, low=0.0)
    else:
        check_real("threshold", threshold, low=0.0)
    flags = L1(select=select).mask(params)  # ConfigError if nothing matches
    flat, treedef = jax.tree.flatten(params)
    masks = []
    for leaf, f in zip(flat, flags, strict=True):
        if f:
            w = jnp.asarray(leaf)
            tau = sensitivity * jnp.std(w) if sensitivity is not None else float(threshold or 0)
            masks.append((jnp.abs(w) > tau).astype(w.dtype))
        else:
            masks.append(jnp.ones_like(leaf))
    mask = jax.tree.unflatten(treedef, masks)
    return jax.tree.map(jnp.multiply, params, mask), mask


def truncate_rank(
    params: Any, *, select: Selector = "weights", tol: float = 1e-2, layout: str = "out_in"
) -> tuple[Any, dict[str, int]]:
    """Replace each selected weight's matrix view M by its SVD truncation at σ_i > tol·σ_1.

    Returns (params, {name: kept rank}). Conv kernels use :func:`algoreg.regularizers.matrix_view`.
    """
    check_real("tol", tol, low=0.0, high=1.0)
    flags = L1(select=select).mask(params)
    names = [n for n, _ in named_leaves(params)]
    flat, treedef = jax.tree.flatten(params)
    out, ranks = [], {}
    for name, leaf, f in zip(names, flat, flags, strict=True):
        if not f:
            out.append(leaf)
            continue
        if leaf.ndim < 2:
            raise ConfigError(f"truncate_rank needs matrices; parameter {name!r} is {leaf.shape}")
        M = np.asarray(matrix_view(leaf, layout), np.float64)
        U, s, Vh = np.linalg.svd(M, full_matrices=False)
        r = int(np.sum(s > tol * s[0])) if s[0] > 0 else 0
        ranks[name] = r
        Mr = (U[:, :r] * s[:r]) @ Vh[:r]
        out.append(tensor_view(jnp.asarray(Mr, leaf.dtype), leaf.shape, layout))
    return jax.tree.unflatten(treedef, out), ranks
