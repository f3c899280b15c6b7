"""Scale-invariant (and classic) regularizers on any pytree of parameters.

A regularizer is a frozen object; ``reg(params)`` returns λ·Σ_t R(w_t), the sum over the
*selected* array leaves w_t of a parameter pytree (a list of dicts, an Equinox or Flax model,
…). Leaves are named by :func:`jax.tree_util.keystr` of their path (``"[0]['w']"``,
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

Element-wise kinds (``l1``, ``hoyer``, ``hoyer_square``) flatten the tensor to a vector of N
entries and accept any ndim (biases too). Everything is safe at zero: an all-zero tensor (or
group) gives value 0 and a finite gradient; |x| is written x·sign(x) so that autodiff yields
the minimal subgradient sign(0) = 0, equal to the closed forms below.

Closed-form gradients (``reg.grad(params)``), with s = sign(w), ‖·‖ = ‖·‖₂, n_g = ‖w_g‖:

* L1 Σ|w|: s.
* Hoyer H = ‖w‖₁/‖w‖₂ ∈ [1, √N]: s/‖w‖₂ − ‖w‖₁·w/‖w‖₂³.
* Hoyer-square H_S = ‖w‖₁²/‖w‖₂² ∈ [1, N] (DeepHoyer): 2‖w‖₁·s/‖w‖₂² − 2‖w‖₁²·w/‖w‖₂⁴;
  ⟨∇H_S, w⟩ = 0 (Euler, degree 0).
* group lasso Σ_g n_g: w_g/n_g on each group (0 on a zero group).
* group-Hoyer-square (Σ_g n_g)²/Σ_g n_g²: 2(Σn)·w_g/(n_g‖w‖²) − 2(Σn)²·w/‖w‖⁴.
* nuclear ‖M‖_* = Σσ: UVᵀ (a subgradient where M is rank-deficient).
* spectral ratio ρ = ‖M‖_*/‖M‖_F ∈ [1, √rank]: UVᵀ/‖M‖_F − ‖M‖_*·M/‖M‖_F³.
* ratio-square ρ²: 2ρ·∇ρ.

``degree`` d states R(cw) = c^d R(w) for c > 0 (0: scale-invariant).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_choice, check_real, unknown_name
from ..penalties.svd import singular_values, spectral_gradient, thin_svd

Selector = str | Callable[[str, Any], bool]

LAYOUTS = ("out_in", "in_out")
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


# --------------------------------------------------------------------------------------------
# safe elementary pieces


def _abs(x: jax.Array) -> jax.Array:
    """|x| whose autodiff derivative is sign(x) (0 at 0)."""
    return x * jax.lax.stop_gradient(jnp.sign(x))


def _safe_div(num: jax.Array, den: jax.Array) -> jax.Array:
    """num/den where den > 0, else 0 — finite gradient in both where-branches."""
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def _safe_sqrt(x: jax.Array) -> jax.Array:
    """√x with gradient 0 (not ∞) at x = 0."""
    ok = x > 0
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


# --------------------------------------------------------------------------------------------
# matrix views


def _check_layout(layout: str) -> str:
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


def _oik(w: jax.Array, layout: str) -> jax.Array:
    """(out, in, k) view: rows = output groups, middle axis = input-channel groups."""
    M = matrix_view(w, layout)
    if layout == "in_out":
        n_in = w.shape[-2]
    else:
        n_in = w.shape[1]
    return M.reshape(M.shape[0], n_in, -1)


# --------------------------------------------------------------------------------------------
# selection


def _is_float_array(leaf: Any) -> bool:
    return isinstance(leaf, jax.Array | np.ndarray) and jnp.issubdtype(leaf.dtype, jnp.inexact)


def _selector(select: Selector) -> Callable[[str, Any], bool]:
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


# --------------------------------------------------------------------------------------------
# base class


@dataclass(frozen=True)
class Regularizer:
    """λ·Σ_t R(w_t) over the selected floating leaves of a parameter pytree."""

    lam: float = 1.0
    select: Selector = "weights"
    layout: str = "out_in"

    name: ClassVar[str]
    degree: ClassVar[float | None]
    min_ndim: ClassVar[int] = 0

    def __post_init__(self) -> None:
        check_real("lam", self.lam, low=0.0)
        _check_layout(self.layout)
        _selector(self.select)

    # ---- per tensor ----
    def tensor_value(self, w: jax.Array) -> jax.Array:
        """R(w) of one tensor, without λ."""
        raise NotImplementedError

    def tensor_grad(self, w: jax.Array) -> jax.Array:
        """∇R(w) of one tensor in closed form."""
        raise NotImplementedError

    # ---- selection ----
    def mask(self, params: Any) -> list[bool]:
        """Which leaves (in flatten order) are regularized; raises if none or if unsupported."""
        pick = _selector(self.select)
        flags = []
        for name, leaf in named_leaves(params):
            chosen = _is_float_array(leaf) and bool(pick(name, leaf))
            if chosen and leaf.ndim < self.min_ndim:
                raise ConfigError(
                    f"regularizer {self.name!r} needs parameters with ndim >= {self.min_ndim} "
                    f"(a matrix or conv kernel); parameter {name!r} has shape {tuple(leaf.shape)}"
                    f" (select={self.select!r})"
                )
            flags.append(chosen)
        if not any(flags):
            names = [n for n, leaf in named_leaves(params) if _is_float_array(leaf)]
            raise ConfigError(
                f"regularizer {self.name!r} with select={self.select!r} matches no parameter; "
                f"floating parameters: {', '.join(names) if names else '(none)'}"
            )
        return flags

    def selected(self, params: Any) -> list[tuple[str, jax.Array]]:
        """(name, leaf) of the regularized leaves."""
        leaves = named_leaves(params)
        return [nl for nl, f in zip(leaves, self.mask(params), strict=True) if f]

    # ---- whole pytree ----
    def __call__(self, params: Any) -> jax.Array:
        """λ·Σ_t R(w_t)."""
        terms = [self.tensor_value(w) for _, w in self.selected(params)]
        return self.lam * sum(terms[1:], terms[0])

    def per_tensor(self, params: Any) -> dict[str, float]:
        """R(w_t) (without λ) for each selected leaf, by name — for reports."""
        return {n: float(self.tensor_value(w)) for n, w in self.selected(params)}

    def grad(self, params: Any) -> Any:
        """λ·∇ in closed form, a pytree like ``params`` (zeros on unselected array leaves)."""
        flat, treedef = jax.tree_util.tree_flatten(params)
        out = []
        for leaf, f in zip(flat, self.mask(params), strict=True):
            if f:
                out.append(self.lam * self.tensor_grad(jnp.asarray(leaf)))
            elif _is_float_array(leaf):
                out.append(jnp.zeros_like(leaf))
            else:
                out.append(leaf)
        return jax.tree_util.tree_unflatten(treedef, out)


# --------------------------------------------------------------------------------------------
# element-wise


@dataclass(frozen=True)
class L1(Regularizer):
    """Σ|w| (lasso); gradient sign(w)."""

    name: ClassVar[str] = "l1"
    degree: ClassVar[float | None] = 1.0

    def tensor_value(self, w):
        return jnp.sum(_abs(w))

    def tensor_grad(self, w):
        return jnp.sign(w)


def _l1_l2sq(w):
    return jnp.sum(_abs(w)), jnp.sum(w * w)


@dataclass(frozen=True)
class Hoyer(Regularizer):
    """‖w‖₁/‖w‖₂ ∈ [1, √N] (Hoyer 2004), 0 at w = 0; scale-invariant."""

    name: ClassVar[str] = "hoyer"
    degree: ClassVar[float | None] = 0.0

    def tensor_value(self, w):
        a, b = _l1_l2sq(w)
        return _safe_div(a, _safe_sqrt(b))

    def tensor_grad(self, w):
        a, b = _l1_l2sq(w)
        n2 = _safe_sqrt(b)
        return _safe_div(jnp.sign(w), n2) - _safe_div(a * w, n2 * b)


@dataclass(frozen=True)
class HoyerSquare(Regularizer):
    """(‖w‖₁/‖w‖₂)² ∈ [1, N] (DeepHoyer, Yang et al. 2020): 1 when 1-sparse, N when constant."""

    name: ClassVar[str] = "hoyer_square"
    degree: ClassVar[float | None] = 0.0

    def tensor_value(self, w):
        a, b = _l1_l2sq(w)
        return _safe_div(a * a, b)

    def tensor_grad(self, w):
        a, b = _l1_l2sq(w)
        return _safe_div(2.0 * a * jnp.sign(w), b) - _safe_div(2.0 * a * a * w, b * b)


# --------------------------------------------------------------------------------------------
# group-wise


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
        T = _oik(w, self.layout)
        axes = (1, 2) if GROUPS[self.group] == "out" else (0, 2)
        return jnp.sum(T * T, axis=axes), T

    def _expand(self, g: jax.Array) -> jax.Array:
        """Per-group values broadcast against the (out, in, k) view."""
        return g[:, None, None] if GROUPS[self.group] == "out" else g[None, :, None]

    def _back(self, G_oik, w):
        return tensor_view(G_oik.reshape(G_oik.shape[0], -1), w.shape, self.layout)


@dataclass(frozen=True)
class GroupLasso(_Grouped):
    """Σ_g ‖w_g‖₂ (Yuan & Lin 2006; Wen et al. 2016), groups as in :class:`_Grouped`."""

    name: ClassVar[str] = "group_lasso"
    degree: ClassVar[float | None] = 1.0

    def tensor_value(self, w):
        sq, _ = self._sq(w)
        return jnp.sum(_safe_sqrt(sq))

    def tensor_grad(self, w):
        sq, T = self._sq(w)
        n = _safe_sqrt(sq)
        return self._back(_safe_div(T, self._expand(n)), w)


@dataclass(frozen=True)
class GroupHoyerSquare(_Grouped):
    """(Σ_g ‖w_g‖₂)² / Σ_g ‖w_g‖₂² ∈ [1, #groups] (DeepHoyer's group-H_S); scale-invariant."""

    name: ClassVar[str] = "group_hoyer_square"
    degree: ClassVar[float | None] = 0.0

    def tensor_value(self, w):
        sq, _ = self._sq(w)
        a = jnp.sum(_safe_sqrt(sq))
        return _safe_div(a * a, jnp.sum(sq))

    def tensor_grad(self, w):
        sq, T = self._sq(w)
        n = _safe_sqrt(sq)
        a, b = jnp.sum(n), jnp.sum(sq)
        G = _safe_div(2.0 * a * T, self._expand(n) * b) - _safe_div(2.0 * a * a * T, b * b)
        return self._back(G, w)


# --------------------------------------------------------------------------------------------
# spectral (per weight matrix)


def _ratio(s):
    return _safe_div(jnp.sum(s), _safe_sqrt(jnp.sum(s * s)))


def _ratio_grad(M: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(ρ, ∇ρ) for ρ = ‖M‖_*/‖M‖_F: ∇ρ = UVᵀ/‖M‖_F − ‖M‖_*·M/‖M‖_F³ (0 at M = 0)."""
    U, s, Vh = thin_svd(M)
    nuc, fro2 = jnp.sum(s), jnp.sum(s * s)
    fro = _safe_sqrt(fro2)
    polar = spectral_gradient(jnp.ones_like(s), U, Vh)
    return _safe_div(nuc, fro), _safe_div(polar, fro) - _safe_div(nuc * M, fro * fro2)


@dataclass(frozen=True)
class _Spectral(Regularizer):
    min_ndim: ClassVar[int] = 2

    def spectral(self, s: jax.Array) -> jax.Array:
        """f(σ) of the singular values."""
        raise NotImplementedError

    def matrix_grad(self, M: jax.Array) -> jax.Array:
        """∇f(σ(M)) = U diag(f'(σ)) Vᵀ."""
        raise NotImplementedError

    def tensor_value(self, w):
        return self.spectral(singular_values(matrix_view(w, self.layout)))

    def tensor_grad(self, w):
        return tensor_view(self.matrix_grad(matrix_view(w, self.layout)), w.shape, self.layout)


@dataclass(frozen=True)
class Nuclear(_Spectral):
    """‖M‖_* = Σσ per weight matrix; gradient UVᵀ."""

    name: ClassVar[str] = "nuclear"
    degree: ClassVar[float | None] = 1.0

    def spectral(self, s):
        return jnp.sum(s)

    def matrix_grad(self, M):
        U, s, Vh = thin_svd(M)
        return spectral_gradient(jnp.ones_like(s), U, Vh)


@dataclass(frozen=True)
class Ratio(_Spectral):
    """ρ = ‖M‖_*/‖M‖_F ∈ [1, √rank] per weight matrix (Zhao 2022); 0 at M = 0."""

    name: ClassVar[str] = "ratio"
    degree: ClassVar[float | None] = 0.0

    def spectral(self, s):
        return _ratio(s)

    def matrix_grad(self, M):
        return _ratio_grad(M)[1]


@dataclass(frozen=True)
class RatioSquare(_Spectral):
    """ρ² = (‖M‖_*/‖M‖_F)² ∈ [1, rank] per weight matrix — the matrix analogue of H_S."""

    name: ClassVar[str] = "ratio_square"
    degree: ClassVar[float | None] = 0.0

    def spectral(self, s):
        return _ratio(s) ** 2

    def matrix_grad(self, M):
        rho, g = _ratio_grad(M)
        return 2.0 * rho * g


SPECTRAL: dict[str, type[_Spectral]] = {c.name: c for c in (Nuclear, Ratio, RatioSquare)}


# --------------------------------------------------------------------------------------------
# end-to-end product of a linear stack


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
    def base(self) -> _Spectral:
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
        return self.lam * self.base.tensor_value(self.product(params))

    def per_tensor(self, params: Any) -> dict[str, float]:
        return {"end_to_end": float(self.base.tensor_value(self.product(params)))}

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
            elif _is_float_array(leaf):
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


# --------------------------------------------------------------------------------------------
# registry

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
