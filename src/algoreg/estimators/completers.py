"""The four completers: convex nuclear norm, SoftImpute, deep factorization, ratio penalty."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, ClassVar

import numpy as np

from ..baselines import SolverError, lambda_max, nuclear_norm, soft_impute
from ..baselines.soft_impute import FULL_SVD_MAX
from ..engine import FitResult, fit_many
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
from ..metrics import early_stopping_metrics
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


def _slow(what: str, seconds: float, advice: str, limit: float | None = None) -> None:
    """Warn that ``what`` may take about ``seconds`` (a rough estimate, when over ``limit``,
    default :data:`SLOW_FIT_S`) and what to change."""
    if seconds > (SLOW_FIT_S if limit is None else limit):
        hours = seconds / 3600
        when = f"~{hours:.0f} h" if hours >= 2 else f"~{seconds / 60:.0f} min"
        warnings.warn(
            f"{what} may take {when} on one core (a rough estimate); {advice}",
            SlowWarning,
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


def _split_validation(
    mask: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """(training mask, validation mask): a seeded uniform ``fraction`` of the observed entries
    held out (None without any)."""
    if fraction == 0:
        return mask, None
    rows, cols = np.nonzero(mask)
    n_val = round(fraction * rows.size)
    if not 0 < n_val < rows.size:
        raise ConfigError(
            f"validation={fraction:g} of {rows.size} observed entries holds out {n_val}; at "
            "least one must be held out and one kept (raise validation, or set it to 0)"
        )
    pick = np.random.default_rng(np.random.SeedSequence([seed, 11])).permutation(rows.size)
    val = np.zeros_like(mask)
    val[rows[pick[:n_val]], cols[pick[:n_val]]] = True
    return mask & ~val, val


def _engine_fit(
    problem: CompletionProblem,
    *,
    model,
    penalty,
    optimizer,
    sparse: bool = False,
    validation: float = 0.0,
    shift: bool = False,
    **kw,
) -> FitResult:
    """``algoreg.fit`` on the data scaled to RMS 1 over the observed entries, scaled back.

    Scaling makes ``init_scale``, ``learning_rate`` and ``lam`` mean the same for data of any
    scale; the returned matrix is in the data's units, while ``factors``, ``metrics`` and
    ``history`` stay in the training units: matrix = ``config["data_scale"]`` · (the model's
    matrix) + ``config["data_offset"]``. ``shift`` first subtracts the mean observed entry
    (added back to the result; for a model with its own bias terms, which start at 0).
    ``sparse`` trains on the observed entries as index arrays (a model with factors then never
    forms the m × n product during training).

    ``validation`` > 0 stops early: that fraction of the observed entries (seeded by ``seed``)
    is held out, the fit runs ``max_steps`` on the rest, the step with the lowest validation
    error among the log points (every ``log_every`` steps) is chosen, and the model is refitted
    on all observed entries for that many steps from the same initialization
    (``config["early_stopping"]`` records the step, the validation error and the curves).
    ``penalty`` may be a list of candidates (a batch, one trial each; ``validation`` chooses
    among them with the step; without it the first is used).
    """
    values = problem.observed[problem.mask]
    offset = float(np.mean(values)) if shift else 0.0
    scale = float(np.sqrt(np.mean((values - offset) ** 2)))
    scale = scale if scale > 0 else 1.0
    observed = np.where(problem.mask, (problem.observed - offset) / scale, 0.0)

    def scaled(mask: np.ndarray, val: np.ndarray | None) -> Problem:
        if not sparse:
            return CompletionProblem(None, mask, observed, val_mask=val)
        rows, cols = np.nonzero(mask)
        held = None if val is None else (*np.nonzero(val), observed[val])
        return SparseCompletionProblem(problem.shape, rows, cols, observed[rows, cols], val=held)

    stopping = None
    if validation > 0:
        train, val = _split_validation(problem.mask, validation, kw["seed"])
        candidates = penalty if isinstance(penalty, list) else [penalty]
        trials = _checked_fit(scaled(train, val), model, candidates, optimizer, kw)
        stopping = _choose_stop(trials, candidates, validation)
        if stopping is not None:
            penalty = candidates[stopping["candidate"]]
            kw = {**kw, "max_steps": max(stopping["step"], 1), "tol": 0.0}
    if isinstance(penalty, list):  # no finite validation error to choose by: the first one
        penalty = penalty[0]
    result = _checked_fit(scaled(problem.mask, None), model, penalty, optimizer, kw)
    config = {**result.config, "data_scale": scale, "data_offset": offset}
    if stopping is not None:
        config["early_stopping"] = stopping
    return dataclasses.replace(
        result,
        matrix=np.asarray(result.matrix, dtype=np.float64) * scale + offset,
        config=config,
    )


def _choose_stop(
    trials: list[FitResult], candidates: list, validation: float
) -> dict[str, Any] | None:
    """The (candidate, log point) with the lowest validation error over a batch of trials
    (each trial's early stop as :func:`~algoreg.metrics.early_stopping_metrics` reads it), with
    every trial's validation curve; None when no validation error is finite."""
    stops = [early_stopping_metrics(t.history, {}, t.steps) for t in trials]
    errors = [s.get("es_val_error", np.nan) for s in stops]
    if not np.isfinite(errors).any():
        return None
    i = int(np.nanargmin(errors))
    return {
        "validation": validation,
        "candidate": i,
        "lam": 0.0 if candidates[i] is None else candidates[i].lam,
        "step": int(stops[i]["es_step"]),
        "val_error": float(errors[i]),
        "steps": [int(x) for x in trials[i].history["step"]],
        "val_errors": [np.asarray(t.history["val_error"], float).tolist() for t in trials],
        "lams": [0.0 if c is None else c.lam for c in candidates],
    }


def _checked_fit(problem: Problem, model, penalty, optimizer, kw: dict[str, Any]):
    """:func:`algoreg.fit` (a batch over ``penalty`` when it is a list, returning a list),
    raising :class:`SolverError` when a trial diverged (in a batch: when all did — the others'
    validation curves still choose) and warning when ``max_steps`` came before train loss ≤
    ``tol`` (> 0)."""
    batch = isinstance(penalty, list)
    penalties = penalty if batch else [penalty]
    seed = kw["seed"]
    rest = {k: v for k, v in kw.items() if k != "seed"}
    results = fit_many(
        [problem] * len(penalties),
        model,
        penalty=penalties,
        optimizer=optimizer,
        seeds=[seed] * len(penalties),
        **rest,
    )
    for result in results:
        if result.status == "diverged" and (
            not batch or all(r.status == "diverged" for r in results)
        ):
            raise SolverError(
                f"algoreg.fit ({optimizer.kind})",
                "diverged",
                f"after {result.steps} steps; lower learning_rate (now "
                f"{optimizer.learning_rate:g})",
            )
        if result.status == "max_steps" and kw["tol"] > 0:
            warnings.warn(
                f"algoreg.fit stopped at max_steps={result.steps} with train loss "
                f"{result.train_loss:.3g} > tol {kw['tol']:g}",
                ConvergenceWarning,
                stacklevel=5,
            )
    return results if batch else results[0]


class _EngineCompleter(BaseCompleter):
    """Shared parameter checks of the completers trained by :func:`algoreg.fit`."""

    def _engine_kwargs(self, max_steps: Any = None) -> dict[str, Any]:
        max_steps = self.max_steps if max_steps is None else max_steps
        return {
            "max_steps": check_int("max_steps", max_steps, low=1, high=INT32_MAX),
            "log_every": check_int("log_every", self.log_every, low=1),
            **self._run_kwargs(),
        }

    def _run_kwargs(self) -> dict[str, Any]:
        """The checked settings every engine completer passes as they are (and ``center``)."""
        check_bool("center", self.center)
        return {
            "tol": check_real("tol", self.tol, low=0.0),
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
    ``init_scale``-sized Gaussian entries for ``max_steps`` steps (``tol`` > 0 stops early at
    train loss ≤ tol). ``method`` chooses the parameterization:

    - ``"dense"``: Z itself (depth 1, the paper's setting), the penalty by an SVD of the
      m × n matrix every step — O(mn·min(m, n)) a step, ≈ 0.44 s at 943 × 1682;
    - ``"factored"``: Z = μ + b1ᵀ + 1cᵀ + F Gᵀ, F, G of width ``rank`` (capped at min(m, n)),
      with the global mean and row/column biases unpenalized (the standard recommender model)
      and the ratio penalty of F Gᵀ exact from its k × k QR cores, trained on the observed
      entries as index arrays — O(|Ω|k + (m + n)k²) a step;
    - ``"auto"`` (default): dense up to min(m, n) = 300, factored above.

    ``validation`` > 0 stops early: that fraction of the observed entries is held out, the
    step with the lowest validation error (among the log points, every ``log_every`` steps) is
    chosen and the model is refitted on all entries for that many steps (``best_step_``;
    ``result_.config["early_stopping"]`` has the validation curves). With ``lam=None`` and
    the factored method λ is chosen the same way from :attr:`LAM_GRID` (one batched run of
    all of them; ``lam_`` is the choice). A factored model needs the early stop: it fits the
    observed entries ever more closely while its unobserved entries drift (on MovieLens-100K
    u1 the test RMSE rose from 0.94 to 2.3 between steps 1000 and 4000 at λ = 0.1), where the
    dense Z's unobserved entries move only through the penalty. And no single λ suits all
    data: early-stopped on u1.base, λ = 0.3 scored u1.test RMSE 0.941 (10⁻³: 0.963, no
    penalty: 0.979), while on a 320 × 400 rank-3 matrix with 10% of its entries and noise
    λ = 0.3 left 0.61 relative error on the missing entries, against 0.16 at λ = 0.1.

    ``None`` takes each method's default (:attr:`DEFAULTS`; the factored learning rate and
    init were chosen on a validation split of u1.base). ``fit_transform`` on u1.base takes
    74 s on one core with them (the dense method: over an hour).

    Before a fit estimated to take over :attr:`WARN_SECONDS` a
    :class:`~algoreg.errors.SlowWarning` states the estimate; ``verbose=True`` prints progress.
    As for :class:`DeepFactorizationCompleter` the data are scaled to RMS 1 for training
    (``lam``, ``init_scale`` are relative to that).
    """

    METHODS = ("auto", "factored", "dense")
    LAM_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
    WARN_SECONDS = 300.0
    DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {
        "dense": {
            "lam": 1e-3,
            "learning_rate": 1e-2,
            "init_scale": 1e-3,
            "max_steps": 10_000,
            "log_every": 1000,
            "validation": 0.0,
        },
        "factored": {
            "lam": None,  # chosen from LAM_GRID on the validation entries
            "learning_rate": 1e-3,
            "init_scale": 1e-2,
            "max_steps": 3000,
            "log_every": 50,
            "validation": 0.1,
        },
    }

    def __init__(
        self,
        lam: float | None = None,
        learning_rate: float | None = None,
        init_scale: float | None = None,
        max_steps: int | None = None,
        tol: float = 0.0,
        log_every: int | None = None,
        dtype: str = "float32",
        seed: int = 0,
        center: bool = False,
        method: str = "auto",
        rank: int = 64,
        validation: float | None = None,
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
        self.validation = validation
        self.verbose = verbose

    def resolved_method(self, shape: tuple[int, int]) -> str:
        """``method``, with ``"auto"`` resolved for an m × n matrix."""
        method = check_choice("method", self.method, self.METHODS)
        if method == "auto":
            return "dense" if min(shape) <= FULL_SVD_MAX else "factored"
        return method

    def resolved_params(self, shape: tuple[int, int]) -> dict[str, Any]:
        """The method and every ``None`` hyper-parameter replaced by its default for an m × n
        matrix, checked."""
        method = self.resolved_method(shape)
        out: dict[str, Any] = {"method": method}
        for name, default in self.DEFAULTS[method].items():
            value = getattr(self, name)
            out[name] = default if value is None else value
        if out["lam"] is not None:
            check_real("lam", out["lam"], low=0.0)
        check_real("learning_rate", out["learning_rate"], low=0.0, low_open=True)
        check_real("init_scale", out["init_scale"], low=0.0, low_open=True)
        check_int("max_steps", out["max_steps"], low=1, high=INT32_MAX)
        check_int("log_every", out["log_every"], low=1)
        check_real("validation", out["validation"], low=0.0, high=1.0, high_open=True)
        out["rank"] = min(check_int("rank", self.rank, low=1), *shape)
        if out["lam"] is None and out["validation"] == 0:
            raise ConfigError(
                "RatioPenaltyCompleter: lam=None chooses λ on held-out entries, but validation "
                "is 0; give lam (e.g. lam=0.1) or validation > 0 (e.g. 0.1)"
            )
        return out

    def _check_params(self) -> dict[str, Any]:
        check_bool("verbose", self.verbose)
        self.resolved_params((1, 1))  # every given value's type and range, before the data
        return {**self._run_kwargs(), "progress": self.verbose}

    def estimated_seconds(self, shape: tuple[int, int], n_obs: int) -> float:
        """A rough wall time of the fit (both passes with ``validation``), scaled from per-step
        times measured on one core (bench/bench_factored.py): the dense step as mn·min(m, n)
        from 0.44 s at 943 × 1682; the factored step as 0.4 ms + 1 ns per observed entry and
        unit of width (6.4 ms measured at 943 × 1682 with 80,000 entries, k = 64) plus its two
        QRs."""
        m, n = shape
        p = self.resolved_params(shape)
        if p["method"] == "dense":
            per_step = 0.44 * (m * n * min(m, n)) / (943 * 1682 * 943)
        else:
            k = p["rank"]
            per_step = 4e-4 + n_obs * k * 1e-9 + (m + n) * k * k * 2 / 1e10
        passes = 1 + (len(self.LAM_GRID) if p["lam"] is None else 1) * (p["validation"] > 0)
        return per_step * p["max_steps"] * passes

    def _solve(self, problem: CompletionProblem, params: dict[str, Any]) -> FitResult:
        p = self.resolved_params(problem.shape)
        m, n = problem.shape
        _slow(
            f"RatioPenaltyCompleter(method={p['method']!r}) on a {m}×{n} matrix with "
            f"{problem.n_obs} observed entries (max_steps={p['max_steps']})",
            self.estimated_seconds(problem.shape, problem.n_obs),
            "method='factored' is far faster" if p["method"] == "dense" else "lower max_steps",
            limit=self.WARN_SECONDS,
        )
        factored = p["method"] == "factored"
        if factored:
            model = get_model("factored", rank=p["rank"], init_scale=p["init_scale"], bias=True)
        else:
            model = factorization(1, init_scale=p["init_scale"])
        lams = self.LAM_GRID if p["lam"] is None else (p["lam"],)
        result = _engine_fit(
            problem,
            model=model,
            penalty=[ratio(lam) for lam in lams],
            optimizer=get_optimizer("adam", learning_rate=p["learning_rate"]),
            sparse=factored,
            shift=factored,
            validation=p["validation"],
            max_steps=p["max_steps"],
            log_every=p["log_every"],
            **params,
        )
        self.best_step_ = int(result.steps)
        self.lam_ = float(result.config["penalty"]["lam"])
        return result
