"""The four completers: convex nuclear norm, SoftImpute, deep factorization, ratio penalty."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from ..baselines import SolverError, lambda_max, nuclear_norm, soft_impute
from ..baselines.soft_impute import FULL_SVD_MAX, SlowConfigurationWarning
from ..engine import FitResult, fit
from ..errors import (
    INT32_MAX,
    UINT32_MAX,
    ConfigError,
    ConvergenceWarning,
    SlowWarning,
    check_bool,
    check_choice,
    check_int,
    check_real,
)
from ..models import factorization
from ..models import get as get_model
from ..optim import get as get_optimizer
from ..penalties import ratio
from ..problems import CompletionProblem, Problem, SparseCompletionProblem
from .base import BaseCompleter

NUCLEAR_SOLVERS = ("auto", "cvxpy", "soft_impute")


CVXPY_MAX_ENTRIES = 250 * 250  # NuclearNormCompleter's "auto": cvxpy up to this many entries
NOMINAL_FLOPS = 1e10  # FLOP/s of one core, for the rough time estimates of slow warnings
SLOW_FIT_S = 300.0  # warn before a fit estimated to take longer than this


def _slow(what: str, seconds: float, advice: str) -> None:
    """Warn that ``what`` may take about ``seconds`` (a rough estimate) and what to change."""
    if seconds > SLOW_FIT_S:
        hours = seconds / 3600
        when = f"~{hours:.0f} h" if hours >= 2 else f"~{seconds / 60:.0f} min"
        warnings.warn(
            f"{what} may take {when} on one core (a rough estimate); {advice}",
            SlowConfigurationWarning,
            stacklevel=4,
        )


class NuclearNormCompleter(BaseCompleter):
    """Nuclear-norm minimization as an imputer: exact (cvxpy + SCS) or first-order.

    ``lam=None, delta=0``: min ‖Z‖_* s.t. Z_ij = X_ij on the observed entries;
    ``delta > 0``: |Z_ij − X_ij| ≤ δ instead; ``lam > 0``: min ½Σ_obs (Z − X)² + λ‖Z‖_*.
    ``solver``: ``"cvxpy"`` solves these exactly as a semidefinite program (SCS; ``eps_abs``,
    ``eps_rel``, ``max_iters`` are its tolerances and iteration limit; a solve that does not end
    ``optimal`` raises :class:`~algoreg.baselines.SolverError`) — its cost grows like
    (m + n)³ per iteration, hours at MovieLens-100K size (943 × 1682); ``"soft_impute"``
    solves the ``lam > 0`` problem (the same objective) by SoftImpute's proximal iteration, and
    ``lam=None, delta=0`` as its λ → 0 limit along a path down to λ = 10⁻⁴·λ_max (the
    minimum-nuclear-norm interpolant up to that λ); ``"auto"`` (default) is cvxpy up to
    ``CVXPY_MAX_ENTRIES`` = 250² entries (and for ``delta > 0``), SoftImpute above. A cvxpy
    solve estimated to run longer than 5 minutes warns first with the estimate.
    See :mod:`algoreg.estimators.base` for ``center``, ``transform`` and the attributes.
    """

    def __init__(
        self,
        lam: float | None = None,
        delta: float = 0.0,
        eps_abs: float = 1e-6,
        eps_rel: float = 1e-6,
        max_iters: int = 100_000,
        center: bool = False,
        solver: str = "auto",
    ) -> None:
        self.lam = lam
        self.delta = delta
        self.eps_abs = eps_abs
        self.eps_rel = eps_rel
        self.max_iters = max_iters
        self.center = center
        self.solver = solver

    def _check_params(self) -> dict[str, Any]:
        check_bool("center", self.center)
        check_choice("solver", self.solver, NUCLEAR_SOLVERS)
        return {
            "lam": self.lam,
            "delta": self.delta,
            "eps_abs": self.eps_abs,
            "eps_rel": self.eps_rel,
            "max_iters": self.max_iters,
        }

    def _solve(self, problem: CompletionProblem, params: dict[str, Any]) -> FitResult:
        m, n = problem.shape
        solver = self.solver
        if solver == "auto":
            small = m * n <= CVXPY_MAX_ENTRIES
            solver = "cvxpy" if small or (params["delta"] or 0) > 0 else "soft_impute"
        if solver == "soft_impute":
            if (params["delta"] or 0) > 0:
                raise ConfigError(
                    "NuclearNormCompleter: delta > 0 (|Z − X| ≤ δ on the observed entries) "
                    "needs solver='cvxpy'; the soft_impute solver handles lam > 0 and the "
                    "exact interpolation (lam=None, delta=0)"
                )
            lam = params["lam"]
            if lam is None:
                lam = 1e-4 * lambda_max(problem)
            return soft_impute(
                problem, lam=lam, n_lams=10, max_iters=SoftImputeCompleter.LARGE_MAX_ITERS
            )
        # SCS: one eigendecomposition of an (m+n)-square matrix per iteration, ~10(m+n)³ FLOPs,
        # and typically a few thousand iterations
        _slow(
            f"NuclearNormCompleter(solver='cvxpy') on a {m}×{n} matrix",
            2000 * 10.0 * (m + n) ** 3 / NOMINAL_FLOPS,
            "use solver='soft_impute' (lam > 0, or lam=None for the interpolation limit)",
        )
        return nuclear_norm(problem, **params)


class SoftImputeCompleter(BaseCompleter):
    """SoftImpute (Mazumder, Hastie & Tibshirani 2010): min ½Σ_obs (Z − X)² + λ‖Z‖_*.

    Solved along a warm-started geometric λ path of ``n_lams`` values from
    λ_max = σ_1(X with missing entries set to 0) down to ``lam`` (``None``: 10⁻³·λ_max, close
    to interpolation — pick λ by validation for noisy data). ``max_iters`` bounds the
    iterations per λ; ``None`` (default) means 5000 when min(m, n) ≤ 300 (a full SVD per
    iteration) and 50 above, where each iteration is a warm-started randomized SVD (``svd``,
    ``max_rank``: see :func:`algoreg.baselines.soft_impute`) — at MovieLens-100K size
    (943 × 1682) the default fit takes about a minute on one core, where a full SVD per
    iteration with 5000 iterations per λ took hours. ``verbose`` prints one line per λ; a
    configuration whose worst case exceeds two minutes warns with an estimate first.
    See :mod:`algoreg.estimators.base` for ``center`` and the attributes.
    """

    LARGE_MAX_ITERS = 50

    def __init__(
        self,
        lam: float | None = None,
        n_lams: int = 10,
        max_iters: int | None = None,
        tol: float = 1e-6,
        max_rank: int | None = None,
        svd: str = "auto",
        verbose: bool = False,
        center: bool = False,
    ) -> None:
        self.lam = lam
        self.n_lams = n_lams
        self.max_iters = max_iters
        self.tol = tol
        self.max_rank = max_rank
        self.svd = svd
        self.verbose = verbose
        self.center = center

    def _check_params(self) -> dict[str, Any]:
        check_bool("center", self.center)
        return {
            "lam": self.lam,
            "n_lams": self.n_lams,
            "max_iters": self.max_iters,
            "tol": self.tol,
            "max_rank": self.max_rank,
            "svd": self.svd,
            "verbose": self.verbose,
        }

    def _solve(self, problem: CompletionProblem, params: dict[str, Any]) -> FitResult:
        if params["max_iters"] is None:
            small = min(problem.shape) <= FULL_SVD_MAX
            params = {**params, "max_iters": 5000 if small else self.LARGE_MAX_ITERS}
        return soft_impute(problem, **params)


def _engine_fit(
    problem: CompletionProblem, *, model, penalty, optimizer, sparse: bool = False, **kw
) -> FitResult:
    """``algoreg.fit`` on the data scaled to RMS 1 over the observed entries, scaled back.

    Scaling makes ``init_scale``, ``learning_rate`` and ``lam`` mean the same for data of any
    scale; the returned matrix (and last factor) are in the data's units, while ``metrics``
    and ``history`` stay in the scaled units (``config["data_scale"]`` holds the factor).
    ``sparse`` trains on the observed entries as index arrays (a model with factors then never
    forms the m × n product during training).
    """
    values = problem.observed[problem.mask]
    scale = float(np.sqrt(np.mean(values**2)))
    scale = scale if scale > 0 else 1.0
    scaled: Problem
    if sparse:
        rows, cols = np.nonzero(problem.mask)
        scaled = SparseCompletionProblem(problem.shape, rows, cols, values / scale)
    else:
        scaled = CompletionProblem(None, problem.mask, problem.observed / scale)
    result = fit(scaled, model, penalty=penalty, optimizer=optimizer, **kw)
    if result.status == "diverged":
        raise SolverError(
            f"algoreg.fit ({optimizer.kind})",
            "diverged",
            f"after {result.steps} steps; lower learning_rate (now {optimizer.learning_rate:g})",
        )
    if result.status == "max_steps" and kw["tol"] > 0:
        warnings.warn(
            f"algoreg.fit stopped at max_steps={result.steps} with train loss "
            f"{result.train_loss:.3g} > tol {kw['tol']:g}",
            ConvergenceWarning,
            stacklevel=4,
        )
    factors = [np.asarray(f, dtype=np.float64) for f in result.factors]
    factors[-1] = factors[-1] * scale
    return dataclasses.replace(
        result,
        matrix=np.asarray(result.matrix, dtype=np.float64) * scale,
        factors=factors,
        config={**result.config, "data_scale": scale},
    )


class _EngineCompleter(BaseCompleter):
    """Shared parameter checks of the completers trained by :func:`algoreg.fit`."""

    def _engine_kwargs(self, max_steps: Any = None) -> dict[str, Any]:
        check_bool("center", self.center)
        max_steps = self.max_steps if max_steps is None else max_steps
        return {
            "max_steps": check_int("max_steps", max_steps, low=1, high=INT32_MAX),
            "tol": check_real("tol", self.tol, low=0.0),
            "log_every": check_int("log_every", self.log_every, low=1),
            "seed": check_int("seed", self.seed, low=0, high=UINT32_MAX),
            "dtype": self.dtype,
        }


class DeepFactorizationCompleter(_EngineCompleter):
    """Deep matrix factorization Z = W_N⋯W_1 trained on the observed entries (Arora et al. 2019).

    Minimizes the mean squared error over the observed entries with ``optimizer`` (a name in
    :data:`algoreg.optim.OPTIMIZERS`, with ``learning_rate`` and any further hyper-parameters
    in ``optimizer_params``) from a small initialization (``init``, ``init_scale``), without an
    explicit penalty: the low-rank bias is implicit in depth and small init. Stops at train
    loss ≤ ``tol`` (a :class:`~algoreg.errors.ConvergenceWarning` if ``max_steps`` comes
    first, when ``tol > 0``). The data are scaled to RMS 1 over the observed entries for
    training (so ``init_scale`` and ``tol`` are relative to the data's scale). ``seed`` fixes
    the initialization, so fits are deterministic.

    ``width=None`` is the larger matrix dimension (no rank constraint) and ``max_steps=None``
    is 20,000 steps, up to min(m, n) = 300; above, where a full-width step costs seconds
    (depth 3 at 943 × 1682: ~3 s, so the old default ran for hours), they are
    ``LARGE_WIDTH`` = 64 and ``LARGE_MAX_STEPS`` = 2000. A fit estimated (from its FLOPs, at
    a nominal 10 GFLOP/s) to take longer than 5 minutes warns first with the estimate.
    """

    LARGE_WIDTH = 64
    LARGE_MAX_STEPS = 2000

    def __init__(
        self,
        depth: int = 3,
        width: int | None = None,
        init: str = "gaussian",
        init_scale: float = 1e-3,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        optimizer_params: dict | None = None,
        max_steps: int | None = None,
        tol: float = 1e-7,
        log_every: int = 1000,
        dtype: str = "float32",
        seed: int = 0,
        center: bool = False,
    ) -> None:
        self.depth = depth
        self.width = width
        self.init = init
        self.init_scale = init_scale
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.optimizer_params = optimizer_params
        self.max_steps = max_steps
        self.tol = tol
        self.log_every = log_every
        self.dtype = dtype
        self.seed = seed
        self.center = center

    def _check_params(self) -> dict[str, Any]:
        extra = {} if self.optimizer_params is None else self.optimizer_params
        if not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra):
            raise ConfigError(
                "optimizer_params must be a dict of the optimizer's keyword arguments, e.g. "
                f"{{'b1': 0.9}}, got {extra!r}"
            )
        if "learning_rate" in extra:
            raise ConfigError(
                "optimizer_params: give the learning rate as learning_rate=…, not in "
                "optimizer_params"
            )
        return {
            "model": factorization(
                self.depth, self.width, init=self.init, init_scale=self.init_scale
            ),
            "penalty": None,
            "optimizer": get_optimizer(self.optimizer, learning_rate=self.learning_rate, **extra),
            **self._engine_kwargs(1 if self.max_steps is None else None),
        }

    def _solve(self, problem: CompletionProblem, params: dict[str, Any]) -> FitResult:
        m, n = problem.shape
        large = min(m, n) > FULL_SVD_MAX
        if self.max_steps is None:
            params = {**params, "max_steps": self.LARGE_MAX_STEPS if large else 20_000}
        model = params["model"]
        if self.width is None and large and self.depth > 1:
            model = dataclasses.replace(model, width=self.LARGE_WIDTH)
        step = model.step_flops((m, n)) + 10.0 * m * n
        _slow(
            f"DeepFactorizationCompleter on a {m}×{n} matrix ({params['max_steps']} steps, "
            f"width {model.resolved_width((m, n))})",
            params["max_steps"] * step / NOMINAL_FLOPS,
            "lower max_steps or width",
        )
        return _engine_fit(problem, **{**params, "model": model})


class RatioPenaltyCompleter(_EngineCompleter):
    """Adam + λ·‖Z‖_*/‖Z‖_F (Zhao et al. 2022's scale-invariant ratio penalty).

    Minimizes mean_obs (Z − X)² + λ·‖Z‖_*/‖Z‖_F with Adam (``learning_rate``) from
    ``init_scale``-sized Gaussian entries, for ``max_steps`` steps (``tol`` > 0 stops early at
    train loss ≤ tol). ``method`` chooses the parameterization:

    - ``"dense"`` (default): Z itself (depth 1), the penalty by an SVD of the m × n matrix
      every step (≈ 0.44 s a step at 943 × 1682: more than an hour at the defaults, which the
      warning below states before it starts);
    - ``"factored"``: Z = F Gᵀ of width ``rank`` (capped at min(m, n)) on the observed entries
      as index arrays, the penalty exact from the k × k QR cores — O(|Ω|k + (m + n)k²) a step.
      Measured on MovieLens-100K u1.base (943 × 1682, 80,000 ratings, one core, a shared
      machine): 10,000 steps in 57 s. It is not the default because at these defaults it
      overfits badly: u1.test RMSE 15.4 unclipped (1.43 clipped to [1, 5]) — with no early
      stopping the factors grow without bound off the observed entries, which the depth-1
      dense Z cannot do (its unobserved entries move only through the penalty); a rank-16,
      λ = 1e-2 fit gave 62.9 (1.33). It needs a validation stop or weight decay first.

    Before a fit estimated to take over :attr:`WARN_SECONDS` a :class:`SlowWarning` states the
    estimate; ``verbose=True`` prints progress every ``log_every`` steps. As for
    :class:`DeepFactorizationCompleter` the data are scaled to RMS 1 for training.
    """

    METHODS = ("factored", "dense")
    WARN_SECONDS = 300.0

    def __init__(
        self,
        lam: float = 1e-3,
        learning_rate: float = 1e-2,
        init_scale: float = 1e-3,
        max_steps: int = 10_000,
        tol: float = 0.0,
        log_every: int = 1000,
        dtype: str = "float32",
        seed: int = 0,
        center: bool = False,
        method: str = "dense",
        rank: int = 64,
        verbose: bool = False,
    ) -> None:
        self.lam = lam
        self.learning_rate = learning_rate
        self.init_scale = init_scale
        self.max_steps = max_steps
        self.tol = tol
        self.log_every = log_every
        self.dtype = dtype
        self.seed = seed
        self.center = center
        self.method = method
        self.rank = rank
        self.verbose = verbose

    def _check_params(self) -> dict[str, Any]:
        check_choice("method", self.method, self.METHODS)
        check_int("rank", self.rank, low=1)
        check_bool("verbose", self.verbose)
        if self.method == "dense":
            model = factorization(1, init_scale=self.init_scale)
        else:
            model = None  # its width needs the data's shape: made in _solve
        return {
            "model": model,
            "penalty": ratio(check_real("lam", self.lam, low=0.0)),
            "optimizer": get_optimizer("adam", learning_rate=self.learning_rate),
            **self._engine_kwargs(),
            "progress": self.verbose,
        }

    def estimated_seconds(self, shape: tuple[int, int], n_obs: int) -> float:
        """A rough wall time of the fit at ``max_steps``, scaled from per-step times measured on
        one core (bench/bench_factored.py): the dense step as mn·min(m, n) from 0.44 s at
        943 × 1682; the factored step as 0.4 ms + 1 ns per observed entry and unit of width
        (6.4 ms measured at 943 × 1682 with 80,000 entries, k = 64) plus its two QRs."""
        m, n = shape
        if self.method == "dense":
            per_step = 0.44 * (m * n * min(m, n)) / (943 * 1682 * 943)
        else:
            k = min(self.rank, m, n)
            per_step = 4e-4 + n_obs * k * 1e-9 + (m + n) * k * k * 2 / 1e10
        return per_step * self.max_steps

    def _solve(self, problem: CompletionProblem, params: dict[str, Any]) -> FitResult:
        estimate = self.estimated_seconds(problem.shape, problem.n_obs)
        if estimate > self.WARN_SECONDS:
            warnings.warn(
                f"RatioPenaltyCompleter(method={self.method!r}) on a {problem.shape[0]}×"
                f"{problem.shape[1]} matrix with {problem.n_obs} observed entries: about "
                f"{estimate / 60:.0f} min for max_steps={self.max_steps} on one core"
                + (" (method='factored' is far faster)" if self.method == "dense" else ""),
                SlowWarning,
                stacklevel=4,
            )
        if self.method == "factored":
            k = min(self.rank, *problem.shape)
            params = {
                **params,
                "model": get_model("factored", rank=k, init_scale=self.init_scale),
                "sparse": True,
            }
        return _engine_fit(problem, **params)
