"""Over-parameterized asymmetric factorization W = F Gᵀ from a small random start.

F ∈ ℝ^{m×k}, G ∈ ℝ^{n×k} with any width k (also k > min(m, n)). Gradient descent on
½‖FGᵀ − X‖_F² from a small start fits the principal components of X one at a time (Jiang,
Chen, Ding 2023); on observed entries it is Burer–Monteiro factorization with small init.

Invariant (Du, Hu, Lee 2018). Gradient flow on any loss ℓ(FGᵀ) conserves D = FᵀF − GᵀG
(k × k). One gradient step with R = ∇ℓ(W), F' = F − ηRG, G' = G − ηRᵀF, moves it by exactly

    D' − D = η² (GᵀRᵀRG − FᵀRRᵀF),

so its trace ‖F‖_F² − ‖G‖_F² moves by η² (‖RG‖_F² − ‖RᵀF‖_F²) per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import check_bool, check_int, check_real
from .base import register

Params = tuple[jax.Array, jax.Array]  # (F, G)


@register
@dataclass(frozen=True)
class Asymmetric:
    """W = F Gᵀ of width ``rank`` (k), started at F₀ = β·s·A, G₀ = s·B/β.

    A, B have i.i.d. N(0, 1) entries, s = ``init_scale`` (α), or α/√k with ``scaled``;
    ``imbalance`` β = 1 draws both factors at one scale (balanced in expectation), β ≠ 1
    starts them deliberately unbalanced (Du, Hu, Lee's αU₀, V₀/α) with the same product.
    """

    rank: int = 10
    init_scale: float = 1e-3
    scaled: bool = False
    imbalance: float = 1.0

    kind: ClassVar[str] = "asymmetric"

    def __post_init__(self) -> None:
        check_int("rank", self.rank, low=1)
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)
        check_bool("scaled", self.scaled)
        check_real("imbalance", self.imbalance, low=0.0, low_open=True)

    @property
    def entry_scale(self) -> float:
        """Standard deviation s of the entries of A·s and B·s before the imbalance."""
        return self.init_scale / math.sqrt(self.rank) if self.scaled else self.init_scale

    def init_params(self, key: jax.Array, shape: tuple[int, int], dtype: Any = jnp.float32):
        """(F₀, G₀) for an m × n problem (a pure function of ``key``)."""
        m, n = shape
        kf, kg = jax.random.split(key)
        s, beta = self.entry_scale, self.imbalance
        F = (beta * s) * jax.random.normal(kf, (m, self.rank), dtype)
        G = (s / beta) * jax.random.normal(kg, (n, self.rank), dtype)
        return (F, G)

    def product(self, params: Params) -> jax.Array:
        """W = F Gᵀ."""
        F, G = params
        return F @ G.T

    def diagnostics(self, params: Params) -> dict[str, jax.Array]:
        """``invariant`` ‖FᵀF − GᵀG‖_F, its trace ``norm_gap`` ‖F‖_F² − ‖G‖_F² and the
        ``balance_ratio`` ‖F‖_F / ‖G‖_F (1 when balanced)."""
        F, G = params
        f2, g2 = jnp.sum(F**2), jnp.sum(G**2)
        return {
            "invariant": jnp.linalg.norm(F.T @ F - G.T @ G),
            "norm_gap": f2 - g2,
            "balance_ratio": jnp.sqrt(f2 / jnp.where(g2 > 0, g2, 1.0)),
        }

    def gradient_diagnostics(self, params: Params, residual: jax.Array) -> dict[str, jax.Array]:
        """``drift_rate`` ‖RG‖_F² − ‖RᵀF‖_F² with R = ∇ℓ(FGᵀ) of the data loss: the next GD step
        of size η moves ``norm_gap`` by exactly η²·drift_rate (see the module)."""
        F, G = params
        return {"drift_rate": jnp.sum((residual @ G) ** 2) - jnp.sum((residual.T @ F) ** 2)}

    def history_metrics(self, history: dict[str, Any], optimizer: Any) -> dict[str, float]:
        """``invariant_drift`` max_t |norm_gap(t) − norm_gap(0)|, the final ``balance_ratio``,
        and, for GD logged at consecutive steps, ``drift_identity_err`` = max_t |Δnorm_gap −
        η_t²·drift_rate| / max_t |Δnorm_gap| (0 up to rounding when the identity holds)."""
        steps = np.asarray(history["step"], dtype=float)
        gap = np.asarray(history["norm_gap"], dtype=float)
        out = {"invariant_drift": float(np.max(np.abs(gap - gap[0])))}
        eta = step_sizes(optimizer, steps[:-1])
        consecutive = np.diff(steps) == 1
        if eta is not None and consecutive.any():
            measured = np.diff(gap)[consecutive]
            predicted = (eta**2 * np.asarray(history["drift_rate"], dtype=float)[:-1])[consecutive]
            scale = np.max(np.abs(measured))
            if scale > 0:
                out["drift_identity_err"] = float(np.max(np.abs(measured - predicted)) / scale)
        return out

    def param_count(self, shape: tuple[int, int]) -> int:
        """(m + n)·k."""
        return (shape[0] + shape[1]) * self.rank

    def step_flops(self, shape: tuple[int, int]) -> float:
        """FGᵀ forward, RG and RᵀF backward: 3 · 2mnk."""
        return 6.0 * shape[0] * shape[1] * self.rank

    def label(self, optimizer: str) -> str:
        """E.g. ``asymmetric k=80 gd`` (``… unbalanced ×30`` when started unbalanced)."""
        label = f"asymmetric k={self.rank} {optimizer}"
        return label if self.imbalance == 1 else f"{label} unbalanced ×{self.imbalance:g}"


def step_sizes(optimizer: Any, steps: np.ndarray) -> np.ndarray | None:
    """The step η_t taken from step t (0-based) under plain GD (constant, or ``gd_decay``'s
    η₀/(t + 1)^p); None for any other optimizer."""
    kind = getattr(optimizer, "kind", None)
    if kind == "gd":
        return np.full(steps.shape, optimizer.learning_rate)
    if kind == "gd_decay":
        p = optimizer.params
        return p["learning_rate"] / (steps + 1.0) ** p["power"]
    return None


def invariant_drift(params: Params, residual: jax.Array, learning_rate: float) -> jax.Array:
    """The exact change of D = FᵀF − GᵀG in one gradient step with ∇ℓ(FGᵀ) = ``residual``:
    η²(GᵀRᵀRG − FᵀRRᵀF) (see the module)."""
    F, G = params
    RG, RtF = residual @ G, residual.T @ F
    return learning_rate**2 * (RG.T @ RG - RtF.T @ RtF)
