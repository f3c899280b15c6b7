"""A free tensor variable for lifted matrix sensing (Ma, Lavaei & Sojoudi 2023), and its order-1
case, the Burer–Monteiro factor X.

For a problem of shape (n, r) (an n × n PSD matrix of rank r), order l = 1 trains X ∈ ℝ^{n×r}
itself; an odd order l ≥ 3 trains w ∈ ℝ^{(nr)^l}, stored as its mode-1 unfolding (nr × (nr)^{l−1}),
which the problem reads through the lifted operator (:mod:`algoreg.problems.lifting`). The
claim under test: GD from a small start in the unconstrained tensor space stays near rank 1,
i.e. the energy ratio σ₁(unfolding)/‖w‖ stays near 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from ..errors import ConfigError, check_choice, check_int, check_real
from .base import register

INITS = ("gaussian", "rank1", "spectral")
MAX_ENTRIES = 2e8  # the largest intermediate of the lifted operator we allow (floats)


@register
@dataclass(frozen=True)
class Lifted:
    """A tensor of odd ``order`` l (1: Burer–Monteiro) with ‖w₀‖ = ``init_scale``.

    Starts: ``gaussian``, a generic tensor with i.i.d. entries; ``rank1``, x^{⊗l} for a
    random direction x ∈ ℝ^{nr}; ``spectral``, x̂^{⊗l} with x̂ the top eigenvector v of 𝒜*(b)
    (first column; the other columns 0) plus ``init_noise``·N(0, I), normalized — the
    authors' start, up to their extra 1/√(n^l) (a rescaled init_scale).
    """

    order: int = 3
    init: str = "gaussian"
    init_scale: float = 1e-3
    init_noise: float = 0.01

    kind: ClassVar[str] = "lifted"
    uses_data: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_int("order", self.order, low=1)
        if self.order % 2 == 0:
            raise ConfigError(f"order must be odd (1, 3, 5, …), got {self.order}")
        check_choice("init", self.init, INITS)
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)
        check_real("init_noise", self.init_noise, low=0.0)

    def output_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        """X's shape (order 1) or the unfolding's, nr × (nr)^{l−1}."""
        n, r = shape
        return (n, r) if self.order == 1 else (n * r, (n * r) ** (self.order - 1))

    def init_params(
        self, key: jax.Array, shape: tuple[int, int], dtype: Any = jnp.float32, data=None
    ) -> jax.Array:
        """w₀ (a pure function of ``key`` and, for ``spectral``, of the problem's data)."""
        n, r = shape
        out = self.output_shape(shape)
        if self.init == "gaussian":
            w = jax.random.normal(key, out, dtype)
            return self.init_scale * w / jnp.linalg.norm(w)
        x = jax.random.normal(key, (n, r), dtype)
        if self.init == "spectral":
            if data is None or "spectral" not in data:
                raise ConfigError("init 'spectral' needs a problem with a spectral vector")
            v = jnp.zeros((n, r), dtype).at[:, 0].set(data["spectral"].astype(dtype))
            x = v + self.init_noise * x
        x = (x / jnp.linalg.norm(x)).reshape(-1)
        w = x
        for _ in range(self.order - 1):
            w = jnp.tensordot(w, x, axes=0)
        return (self.init_scale * w).reshape(out)

    def product(self, params: jax.Array) -> jax.Array:
        """The variable as the problem reads it (X, or the tensor's unfolding)."""
        return params

    def diagnostics(self, params: jax.Array) -> dict[str, jax.Array]:
        """``rank1_ratio`` σ₁(unfolding)/‖w‖ (1 exactly for a rank-1 tensor; for X, σ₁/‖X‖_F)
        and ``rank1_gap`` = 1 − rank1_ratio."""
        s = jnp.linalg.svd(params, compute_uv=False)
        ratio = s[0] / jnp.maximum(jnp.sqrt(jnp.sum(s**2)), 1e-300)
        return {"rank1_ratio": ratio, "rank1_gap": 1.0 - ratio}

    def gradient_diagnostics(self, params: jax.Array, residual: jax.Array) -> dict:
        """``grad_norm`` ‖∇f(w)‖ (the variable is the product, so ∇ℓ(W) is the gradient)."""
        return {"grad_norm": jnp.linalg.norm(residual)}

    def check_problem(self, problem: Any) -> None:
        """Refuse up front a lifted size whose intermediates would not fit: the operator needs
        m^j·(nr)^{2(l−j)} floats at mode j (and m^l for the result)."""
        n, r = problem.shape
        m, d, order = problem.n_obs, n * r, self.order
        peak = max(m**j * d ** (2 * (order - j)) for j in range(1, order + 1))
        if order > 1 and peak > MAX_ENTRIES:
            raise ConfigError(
                f"lifting order {order} with n = {n}, rank {r} and m = {m} measurements needs "
                f"{peak:.3g} floats in one intermediate (at most {MAX_ENTRIES:.0e}: e.g. "
                f"n = 10, m = 100 at order 3); lower the order, n or m"
            )

    def param_count(self, shape: tuple[int, int]) -> int:
        """(nr)^l."""
        a, b = self.output_shape(shape)
        return a * b

    def step_flops(self, shape: tuple[int, int]) -> float:
        """A lower bound without m (the problem's): the first mode's two contractions,
        ≈ 4·(nr)^{2l−1}·n per measurement, taken for one measurement."""
        n, r = shape
        return 0.0 if self.order == 1 else 4.0 * (n * r) ** (2 * self.order - 1) * n

    def label(self, optimizer: str) -> str:
        """E.g. ``lifted l=3 gd, rank1 start`` or, at order 1, ``burer-monteiro gd, …``."""
        name = "burer-monteiro" if self.order == 1 else f"lifted l={self.order}"
        return f"{name} {optimizer}, {self.init} start"
