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

from ..errors import ConfigError, check_bool, check_choice, check_int, check_real
from ..problems import lifting
from ..problems.psd_sensing import PsdSensingProblem
from .base import register

INITS = ("gaussian", "rank1", "spectral")
MAX_ENTRIES = 2e8  # the largest intermediate of the lifted operator we allow (floats)


@register
@dataclass(frozen=True)
class Lifted:
    """A tensor of odd ``order`` l (1: Burer–Monteiro) with ‖w₀‖ = ``init_scale``.

    With ``escape`` the engine tries the authors' saddle escape (:meth:`escape_step`) on a
    trial whose ‖∇f‖ stayed below ``escape_tol`` over a whole log interval.

    Starts: ``gaussian``, a generic tensor with i.i.d. entries; ``rank1``, x^{⊗l} for a
    random direction x ∈ ℝ^{nr}; ``spectral``, x̂^{⊗l} with x̂ the top eigenvector v of 𝒜*(b)
    (first column; the other columns 0) plus ``init_noise``·N(0, I), normalized — the
    authors' start, up to their extra 1/√(n^l) (a rescaled init_scale).
    """

    order: int = 3
    init: str = "gaussian"
    init_scale: float = 1e-3
    init_noise: float = 0.01
    escape: bool = False
    escape_tol: float = 1e-5

    kind: ClassVar[str] = "lifted"
    uses_data: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_int("order", self.order, low=1)
        if self.order % 2 == 0:
            raise ConfigError(f"order must be odd (1, 3, 5, …), got {self.order}")
        check_choice("init", self.init, INITS)
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)
        check_real("init_noise", self.init_noise, low=0.0)
        check_bool("escape", self.escape)
        check_real("escape_tol", self.escape_tol, low=0.0, low_open=True)

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
        ratio = s[0] / jnp.maximum(jnp.sqrt(jnp.sum(s**2)), jnp.finfo(s.dtype).tiny)
        return {"rank1_ratio": ratio, "rank1_gap": 1.0 - ratio}

    def gradient_diagnostics(self, params: jax.Array, residual: jax.Array) -> dict:
        """``grad_norm`` ‖∇f(w)‖ (the variable is the product, so ∇ℓ(W) is the gradient)."""
        return {"grad_norm": jnp.linalg.norm(residual)}

    def escape_step(self, W: jax.Array, data: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
        """One escape attempt from a stalled w (Ma, Lavaei & Sojoudi's procedure): drop w to
        x̂ (:func:`~algoreg.problems.lifting.extract`), take the eigenvector u of the smallest
        eigenvalue λ of 𝒜*(𝒜(x̂x̂ᵀ) − b) (u in X's first column when r > 1), and step along
        ±D, D = d^{⊗l}, d = vec(u), with backtracking η = 0.1·0.5^k (k < 20): accept the first
        step with f(w ± ηD) ≤ f(w) + β·½η²·q, β = 0.5, where q = Dᵀ∇²f(w)D < 0 is the lifted
        curvature along D (Armijo's condition for a negative-curvature step where the gradient
        vanishes). Returns (new w, accepted); w itself when λ ≥ 0, q ≥ 0 or no step decreases f
        enough."""
        A, b = data["A"], data["b"]
        n, r = data["truth"].shape

        def f(w):
            return lifting.loss(w, A, b, r)

        X = lifting.extract(W, n, r)
        residual = jnp.einsum("iab,ak,bk->i", A, X, X) - b
        lam, vecs = jnp.linalg.eigh(jnp.einsum("i,iab->ab", residual, A))
        d = jnp.zeros((n, r), W.dtype).at[:, 0].set(vecs[:, 0]).reshape(-1)
        D = d
        for _ in range(self.order - 1):
            D = jnp.tensordot(D, d, axes=0)
        D = D.reshape(W.shape)
        curvature = jnp.vdot(D, jax.jvp(jax.grad(f), (W,), (D,))[1])  # Dᵀ∇²f(w)D
        etas = 0.1 * 0.5 ** jnp.arange(20, dtype=W.dtype)
        steps = jnp.stack([etas, -etas], axis=1).reshape(-1)  # +η₀, −η₀, +η₀/2, …
        values = jax.vmap(lambda eta: f(W + eta * D))(steps)
        ok = (values <= f(W) + 0.25 * steps**2 * curvature) & (curvature < 0) & (lam[0] < 0)
        first = jnp.argmax(ok)
        return jnp.where(ok[first], W + steps[first] * D, W), ok[first]

    def check_problem(self, problem: Any) -> None:
        """Refuse up front a lifted size whose intermediates would not fit: the operator needs
        m^j·(nr)^{2(l−j)} floats at mode j (and m^l for the result)."""
        if not isinstance(problem, PsdSensingProblem):
            raise ConfigError(
                f"model 'lifted' reads a psd_sensing problem (symmetric sensing of a PSD "
                f"matrix), not {type(problem).__name__}"
            )
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
        return f"{name} {optimizer}, {self.init} start" + (" + escape" if self.escape else "")
