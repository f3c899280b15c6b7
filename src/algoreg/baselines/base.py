"""Shared pieces of the baselines: the solver error, problem data and the result builder.

Every baseline takes a problem object (``CompletionProblem`` or ``SensingProblem``) and returns
an :class:`algoreg.engine.FitResult`, like :func:`algoreg.fit`: ``matrix`` (and
``factors = [matrix]``), ``status`` (``"converged"`` or ``"max_steps"``), ``steps`` (solver
iterations), ``metrics`` (the problem's test metrics of the matrix, evaluated in float64, plus
spectral summaries and the baseline's own objective), ``history`` (NumPy arrays over the
iterations or over the λ path), ``wall_time``, ``seed`` and ``config`` (``kind`` and the resolved
parameters).
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import FitResult
from ..errors import ConfigError, check_int
from ..metrics import effective_rank_of
from ..problems import Problem, SensingProblem


class SolverError(RuntimeError):
    """A solver ended without an acceptable solution; carries the solver name and status."""

    def __init__(self, solver: str, status: str, detail: str = "") -> None:
        self.solver = solver
        self.status = status
        message = f"solver {solver} ended with status {status!r}"
        super().__init__(f"{message}: {detail}" if detail else message)


@dataclass(frozen=True)
class LinearData:
    """The observation operator of a problem as b = 𝒜(X), in float64.

    Completion: 𝒜(X) = X restricted to Ω (the entries ``rows``, ``cols``).
    Sensing: 𝒜(X)_k = ⟨A_k, X⟩ with ``A`` flattened to (n_obs, m·n), row-major.
    """

    kind: str
    shape: tuple[int, int]
    b: np.ndarray
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None
    A: np.ndarray | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """𝒜(X)."""
        if self.kind == "completion":
            return X[self.rows, self.cols]
        return self.A @ X.reshape(-1)

    def adjoint(self, r: np.ndarray) -> np.ndarray:
        """𝒜*(r): the matrix whose inner product with X is ⟨r, 𝒜(X)⟩."""
        if self.kind == "completion":
            out = np.zeros(self.shape)
            out[self.rows, self.cols] = r
            return out
        return (r @ self.A).reshape(self.shape)


def linear_data(problem: Problem, baseline: str, *, sensing: bool) -> LinearData:
    """The float64 observation operator of ``problem``, checking that ``baseline`` handles it.

    Completion-type problems are those with a boolean ``mask`` and an ``observed`` matrix (a
    :class:`CompletionProblem`, or e.g. a ratings problem, whose ``observed`` holds its
    centred training ratings); sensing problems (``A``, ``y``) only where ``sensing``.
    """
    if not isinstance(problem, Problem):
        raise ConfigError(f"{baseline} needs an algoreg problem, got {type(problem).__name__}")
    if isinstance(problem, SensingProblem):
        if not sensing:
            raise ConfigError(
                f"baseline {baseline!r} supports completion problems only, got a sensing "
                "problem; use 'nuclear_norm' or 'svt' for sensing"
            )
        A = np.asarray(problem.A, dtype=np.float64).reshape(problem.n_obs, -1)
        return LinearData("sensing", problem.shape, np.asarray(problem.y, np.float64), A=A)
    mask = getattr(problem, "mask", None)
    observed = getattr(problem, "observed", None)
    if mask is None or observed is None:
        kinds = "completion and sensing" if sensing else "completion"
        raise ConfigError(
            f"baseline {baseline!r} supports {kinds} problems (a completion-type problem has "
            f"a mask and observed entries), got {type(problem).__name__}"
        )
    rows, cols = np.nonzero(np.asarray(mask, dtype=bool))
    b = np.asarray(observed, dtype=np.float64)[rows, cols]
    m, n = problem.shape
    return LinearData("completion", (int(m), int(n)), b, rows=rows, cols=cols)


@functools.lru_cache(maxsize=32)
def _compiled_metrics(problem_cls: type):
    """jit of: W, data → ``{"train_loss": loss, **metrics}``, as ``problem.evaluate`` computes
    them, in one compiled program per shape instead of one compile per eager operation."""

    def metrics(W, data):
        return {"train_loss": problem_cls.loss(W, data), **problem_cls.metrics(W, data)}

    return jax.jit(metrics)


_effective_rank = jax.jit(effective_rank_of)


def metrics64(problem: Problem, matrix: np.ndarray) -> dict[str, float]:
    """The problem's loss and metrics of ``matrix`` in float64 (no spectrum)."""
    with jax.enable_x64(True):
        data = {k: jnp.asarray(v, jnp.float64) for k, v in problem.data().items()}
        out = _compiled_metrics(type(problem))(jnp.asarray(matrix, jnp.float64), data)
        return {k: float(v) for k, v in jax.device_get(out).items()}


def evaluate64(problem: Problem, matrix: np.ndarray) -> dict[str, float]:
    """The problem's metrics of ``matrix`` in float64 plus effective rank, numerical rank,
    nuclear and Frobenius norms (baselines compute in float64; the engine's default float32
    would floor errors near 1e-7)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    s = np.linalg.svd(matrix, compute_uv=False)
    metrics = metrics64(problem, matrix)
    with jax.enable_x64(True):
        metrics["effective_rank"] = float(_effective_rank(jnp.asarray(s)))
    tol = max(matrix.shape) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
    metrics["numerical_rank"] = float(np.sum(s > tol))
    metrics["nuclear_norm"] = float(np.sum(s))
    metrics["fro_norm"] = float(np.sqrt(np.sum(s**2)))
    return metrics


def blas_limit(blas_threads: int | None):
    """Cap BLAS/LAPACK threads (threadpoolctl) while a baseline runs; None: leave them alone.

    One thread is the default, as in :func:`algoreg.fit`: an SVD of a 100×100 matrix measured
    4× slower with OpenBLAS's two threads than with one on the 2-core box.
    """
    if blas_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(check_int("blas_threads", blas_threads, low=1), user_api="blas")


def make_result(
    problem: Problem,
    matrix: np.ndarray,
    *,
    kind: str,
    converged: bool,
    steps: int,
    objective: float,
    history: dict[str, Any],
    wall_time: float,
    seed: int,
    params: dict[str, Any],
) -> FitResult:
    """Assemble the :class:`FitResult` of a baseline (metrics evaluated in float64)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    metrics = evaluate64(problem, matrix)
    metrics["objective"] = float(objective)
    metrics["balancedness"] = 0.0  # a single factor is trivially balanced
    return FitResult(
        matrix=matrix,
        factors=[matrix],
        status="converged" if converged else "max_steps",
        steps=int(steps),
        metrics=metrics,
        history={k: np.asarray(v) for k, v in history.items()},
        wall_time=float(wall_time),
        seed=int(seed),
        config={"kind": kind, "problem": repr(problem), **params},
    )
