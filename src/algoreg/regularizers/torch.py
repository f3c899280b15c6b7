"""The same regularizers on a ``torch.nn.Module`` (optional extra: ``pip install algoreg[torch]``).

>>> from algoreg.regularizers.torch import get
>>> reg = get("hoyer_square", lam=1e-4)                # weights of every Linear / Conv layer
>>> loss = criterion(model(x), y) + reg(model)         # doctest: +SKIP

A :class:`TorchRegularizer` wraps an :mod:`algoreg.regularizers` object and evaluates the same
formula with torch operations on ``module.named_parameters()`` (names such as ``"0.weight"``,
``"fc1.bias"``; ``select`` regexes match them). PyTorch stores Linear weights as (out, in) and
Conv kernels as (out, in, *spatial), the default ``layout="out_in"``. Gradients come from
torch autograd; the formulas (including the zero guards and |x| with derivative sign(x), 0 at
0) are those of the JAX module, and the test suite checks both on the same numbers.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from . import get as jax_get
from .base import Regularizer
from .endtoend import EndToEnd
from .group import GROUPS, _Grouped
from .spectral import SPECTRAL

try:
    import torch
except ImportError as err:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "algoreg.regularizers.torch needs PyTorch: pip install algoreg[torch] "
        "(or pip install torch>=2.2)"
    ) from err


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    ok = den > 0
    return torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)), torch.zeros_like(num))


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    ok = x > 0
    return torch.where(ok, torch.sqrt(torch.where(ok, x, torch.ones_like(x))), torch.zeros_like(x))


def _abs(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sign(x).detach()


def matrix_view(w: torch.Tensor, layout: str = "out_in") -> torch.Tensor:
    """(out, in·k) matrix of a weight (see :func:`algoreg.regularizers.matrix_view`)."""
    if layout == "in_out":
        n = w.ndim
        w = w.permute(n - 1, n - 2, *range(n - 2))
    return w.reshape(w.shape[0], -1)


def _oik(w: torch.Tensor, layout: str) -> torch.Tensor:
    M = matrix_view(w, layout)
    n_in = w.shape[-2] if layout == "in_out" else w.shape[1]
    return M.reshape(M.shape[0], n_in, -1)


def _ratio(s: torch.Tensor) -> torch.Tensor:
    return _safe_div(s.sum(), _safe_sqrt((s * s).sum()))


def _spectral(kind: str, M: torch.Tensor) -> torch.Tensor:
    s = torch.linalg.svdvals(M)
    if kind == "nuclear":
        return s.sum()
    if kind == "ratio":
        return _ratio(s)
    if kind == "ratio_square":
        return _ratio(s) ** 2
    raise ConfigError(f"unknown spectral kind {kind!r}")  # pragma: no cover


def tensor_value(reg: Regularizer, w: torch.Tensor) -> torch.Tensor:
    """R(w) of one tensor, without λ, for the JAX regularizer ``reg``'s formula."""
    name = reg.name
    if name == "l1":
        return _abs(w).sum()
    if name in ("hoyer", "hoyer_square"):
        a, b = _abs(w).sum(), (w * w).sum()
        return _safe_div(a, _safe_sqrt(b)) if name == "hoyer" else _safe_div(a * a, b)
    if name in ("group_lasso", "group_hoyer_square"):
        T = _oik(w, reg.layout)
        assert isinstance(reg, _Grouped)  # the group regularizers are the ones with these names
        dims = (1, 2) if GROUPS[reg.group] == "out" else (0, 2)
        sq = (T * T).sum(dim=dims)
        n = _safe_sqrt(sq)
        if name == "group_lasso":
            return n.sum()
        return _safe_div(n.sum() ** 2, sq.sum())
    if name in SPECTRAL:
        return _spectral(name, matrix_view(w, reg.layout))
    raise ConfigError(f"regularizer {name!r} has no torch form")  # pragma: no cover


class TorchRegularizer:
    """λ·Σ_t R(w_t) over a module's selected parameters, for a JAX regularizer's settings."""

    def __init__(self, reg: Regularizer):
        if not isinstance(reg, Regularizer):
            raise ConfigError(f"TorchRegularizer needs an algoreg regularizer, got {reg!r}")
        self.reg = reg

    def __repr__(self) -> str:
        return f"TorchRegularizer({self.reg!r})"

    def _named(self, model: Any) -> list[tuple[str, torch.Tensor]]:
        if isinstance(model, torch.nn.Module):
            return list(model.named_parameters())
        if isinstance(model, dict):
            return list(model.items())
        return list(model)

    def selected(self, model: Any) -> list[tuple[str, torch.Tensor]]:
        """(name, parameter) pairs chosen by ``select``; ConfigError if none or unsupported."""
        reg = self.reg
        sel = reg.select
        if callable(sel):
            pick = sel
        elif sel == "weights":
            pick = lambda n, p: p.ndim >= 2  # noqa: E731
        elif sel == "all":
            pick = lambda n, p: True  # noqa: E731
        else:
            pat = re.compile(sel)
            pick = lambda n, p: pat.search(n) is not None  # noqa: E731
        named = [(n, p) for n, p in self._named(model) if torch.is_floating_point(p)]
        out = [(n, p) for n, p in named if pick(n, p)]
        for n, p in out:
            if p.ndim < reg.min_ndim:
                raise ConfigError(
                    f"regularizer {reg.name!r} needs parameters with ndim >= {reg.min_ndim} "
                    f"(a matrix or conv kernel); parameter {n!r} has shape {tuple(p.shape)} "
                    f"(select={sel!r})"
                )
        if not out:
            raise ConfigError(
                f"regularizer {reg.name!r} with select={sel!r} matches no parameter; "
                f"floating parameters: {', '.join(n for n, _ in named) or '(none)'}"
            )
        return out

    def __call__(self, model: Any) -> torch.Tensor:
        """λ·Σ_t R(w_t) (a differentiable scalar)."""
        reg = self.reg
        sel = self.selected(model)
        if isinstance(reg, EndToEnd):
            W = None
            for n, p in sel:
                if p.ndim != 2:
                    raise ConfigError(
                        f"end_to_end needs dense (2-D) factors; parameter {n!r} has shape "
                        f"{tuple(p.shape)}"
                    )
                A = matrix_view(p, reg.layout)
                if W is not None and A.shape[1] != W.shape[0]:
                    raise ConfigError(f"end_to_end factors do not chain at parameter {n!r}")
                W = A if W is None else A @ W
            return reg.lam * _spectral(reg.kind, W)
        return reg.lam * sum(tensor_value(reg, p) for _, p in sel)

    def per_tensor(self, model: Any) -> dict[str, float]:
        """R(w_t) (without λ) for each selected parameter."""
        return {n: float(tensor_value(self.reg, p).detach()) for n, p in self.selected(model)}


def get(name: str, **kw: Any) -> TorchRegularizer:
    """Torch form of :func:`algoreg.regularizers.get` (same names and keywords)."""
    return TorchRegularizer(jax_get(name, **kw))


def wrap(reg: Regularizer) -> TorchRegularizer:
    """Torch form of an existing JAX regularizer object."""
    return TorchRegularizer(reg)


__all__ = ["TorchRegularizer", "get", "matrix_view", "tensor_value", "wrap"]
