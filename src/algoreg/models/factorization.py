"""Deep matrix factorization W = W_N ⋯ W_1 (Arora, Cohen, Hu, Luo 2019).

Factors are stored first-to-last: ``params[0] = W_1`` (width × n), ``params[-1] = W_N``
(m × width); depth 1 is the matrix itself (m × n). An optional elementwise nonlinearity φ
turns the product into W = W_N φ(W_{N−1} ⋯ φ(W_1)), i.e. a network applied to the identity.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import check_choice, check_int, check_real
from ..metrics.spectrum import balancedness
from .base import register

Params = tuple[jax.Array, ...]

NONLINEARITIES = {"relu": jax.nn.relu, "tanh": jnp.tanh}
INITS = ("gaussian", "identity", "balanced")


@register
@dataclass(frozen=True)
class Factorization:
    """A depth-``depth`` factorization with hidden ``width`` and an explicit ``init_scale``.

    Initializations (``init_scale`` = e, depth N, width w):

    - ``gaussian``: each factor i.i.d. N(0, s²) with s = e^{1/N}/√w, as in the reference code,
      so the end-to-end entries have standard deviation ≈ e/√w.
    - ``identity``: each factor e^{1/N}·I (rectangular identity); end-to-end e·I.
    - ``balanced``: draw A with i.i.d. N(0, e²/w) entries (the Gaussian init's end-to-end
      scale), take A = UΣVᵀ and set W_1 = Σ^{1/N}Vᵀ, W_j = Σ^{1/N}, W_N = UΣ^{1/N}, so that
      W_N⋯W_1 = A and W_{j+1}ᵀW_{j+1} = W_jW_jᵀ (Du, Hu, Lee 2018) exactly.
    """

    depth: int = 1
    width: int | None = None
    init: str = "gaussian"
    init_scale: float = 1e-3
    nonlinearity: str | None = None

    kind: ClassVar[str] = "factorization"

    def __post_init__(self) -> None:
        check_int("depth", self.depth, low=1)
        if self.width is not None:
            check_int("width", self.width, low=1)
        check_choice("init", self.init, INITS)
        check_real("init_scale", self.init_scale, low=0.0, low_open=True)
        if self.nonlinearity is not None:
            check_choice("nonlinearity", self.nonlinearity, sorted(NONLINEARITIES))

    def resolved_width(self, shape: tuple[int, int]) -> int:
        """Hidden width: the given one, or the larger matrix dimension."""
        return max(shape) if self.width is None else self.width

    def factor_shapes(self, shape: tuple[int, int]) -> list[tuple[int, int]]:
        """Shapes of W_1, …, W_N for an m × n end-to-end matrix."""
        m, n = shape
        if self.depth == 1:
            return [(m, n)]
        w = self.resolved_width(shape)
        return [(w, n)] + [(w, w)] * (self.depth - 2) + [(m, w)]

    def init_params(
        self, key: jax.Array, shape: tuple[int, int], dtype: Any = jnp.float32
    ) -> Params:
        """Initial factors for an m × n problem (a pure function of ``key``)."""
        shapes = self.factor_shapes(shape)
        N, w = self.depth, self.resolved_width(shape)
        scale = self.init_scale ** (1.0 / N)
        if self.init == "gaussian":
            keys = jax.random.split(key, N)
            std = scale / jnp.sqrt(w)
            return tuple(
                std * jax.random.normal(k, s, dtype) for k, s in zip(keys, shapes, strict=True)
            )
        if self.init == "identity":
            return tuple(scale * jnp.eye(*s, dtype=dtype) for s in shapes)
        A = (self.init_scale / jnp.sqrt(w)) * jax.random.normal(key, shape, dtype)
        return balanced_factors(A, shapes)

    def product(self, params: Params) -> jax.Array:
        """End-to-end matrix W_N φ(⋯ φ(W_1))."""
        act = NONLINEARITIES[self.nonlinearity] if self.nonlinearity else None
        W = params[0]
        for factor in params[1:]:
            W = factor @ (act(W) if act else W)
        return W

    def diagnostics(self, params: Params) -> dict[str, jax.Array]:
        """``balancedness`` max_j ‖W_{j+1}ᵀW_{j+1} − W_jW_jᵀ‖_F (0 at depth 1), conserved by
        gradient flow on a linear chain (Du, Hu, Lee 2018).

        A ReLU chain (positively homogeneous, no biases) conserves less under gradient flow:
        per layer ‖W_{j+1}‖_F² − ‖W_j‖_F², and per hidden neuron i of layer j the squared norm
        of its incoming weights (row i of W_j) minus that of its outgoing ones (column i of
        W_{j+1}). With ``nonlinearity = "relu"`` both are logged: ``layer_sq_norms``
        (‖W_j‖_F², j = 1…N) and ``neuron_gaps`` (every hidden neuron's difference)."""
        out = {"balancedness": balancedness(params)}
        if self.nonlinearity == "relu" and self.depth > 1:
            out["layer_sq_norms"] = jnp.stack([jnp.sum(w**2) for w in params])
            out["neuron_gaps"] = jnp.concatenate(
                [jnp.sum(a**2, 1) - jnp.sum(b**2, 0) for a, b in itertools.pairwise(params)]
            )
        return out

    def history_metrics(self, history: dict[str, Any], optimizer: Any) -> dict[str, float]:
        """For a ReLU chain: ``layer_gap_drift`` max over t and j of the change of
        ‖W_{j+1}‖_F² − ‖W_j‖_F² since the start, ``neuron_gap_drift`` the same per neuron, and
        ``layer_norm_change`` max over t and j of the change of ‖W_j‖_F² (what the
        differences are small against) and ``layer_gap_drift_rel``, the first over the last."""
        if "layer_sq_norms" not in history:
            return {}
        norms = np.asarray(history["layer_sq_norms"], dtype=float)
        gaps = np.diff(norms, axis=1)
        neurons = np.asarray(history["neuron_gaps"], dtype=float)
        drift, change = np.max(np.abs(gaps - gaps[0])), np.max(np.abs(norms - norms[0]))
        return {
            "layer_gap_drift": float(drift),
            "neuron_gap_drift": float(np.max(np.abs(neurons - neurons[0]))),
            "layer_norm_change": float(change),
            "layer_gap_drift_rel": float(drift / change) if change > 0 else float("nan"),
        }

    def param_count(self, shape: tuple[int, int]) -> int:
        """Entries of W_1, …, W_N."""
        return sum(a * b for a, b in self.factor_shapes(shape))

    def step_flops(self, shape: tuple[int, int]) -> float:
        """Matmul FLOPs of one step (forward product and the two backward products per factor
        after the first): 3·Σ_j 2·r_j·w·n over the factors W_2…W_N of r_j rows; 0 at depth 1,
        where the step has no matmul."""
        if self.depth == 1:
            return 0.0
        m, n = shape
        w = self.resolved_width(shape)
        rows = [w] * (self.depth - 2) + [m]
        return 3.0 * sum(2 * r * w * n for r in rows)

    def label(self, optimizer: str) -> str:
        """E.g. ``depth 3 gd`` or ``depth 2 adam relu``."""
        label = f"depth {self.depth} {optimizer}"
        return f"{label} {self.nonlinearity}" if self.nonlinearity else label


def balanced_factors(A: jax.Array, shapes: list[tuple[int, int]]) -> Params:
    """Balanced factors with product ``A`` for the given factor shapes (see Factorization)."""
    U, s, Vt = jnp.linalg.svd(A, full_matrices=False)
    N = len(shapes)
    if N == 1:
        return (A,)
    k = s.shape[0]
    w = shapes[0][0]
    if w < k:
        # a narrow network cannot hold A exactly: keep its best rank-w approximation
        U, s, Vt, k = U[:, :w], s[:w], Vt[:w], w
    root = s ** (1.0 / N)
    pad = jnp.zeros((w, w), A.dtype).at[jnp.arange(k), jnp.arange(k)].set(root)
    first = jnp.zeros((w, Vt.shape[1]), A.dtype).at[:k].set(root[:, None] * Vt)
    last = jnp.zeros((U.shape[0], w), A.dtype).at[:, :k].set(U * root)
    return (first, *([pad] * (N - 2)), last)


def factorization(
    depth: int = 1,
    width: int | None = None,
    *,
    init: str = "gaussian",
    init_scale: float = 1e-3,
    nonlinearity: str | None = None,
) -> Factorization:
    """A deep matrix factorization model; see :class:`Factorization`."""
    return Factorization(depth, width, init, init_scale, nonlinearity)
