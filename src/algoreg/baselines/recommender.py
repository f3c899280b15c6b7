"""Recommender baselines for ratings problems: the tuned bias model, and scikit-surprise's SVD
and SVD++ (an optional dependency: ``pip install algoreg[surprise]``) as external references.

Each returns a :class:`~algoreg.engine.FitResult` whose matrix is W = predictions − the
problem's baseline (μ₀, or μ + b_u + b_i with ``center="bias"``), so the problem's own
metrics (clipped and unclipped RMSE and MAE on the test ratings, RMSE on the validation
ratings) score it like every other row.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import FitResult
from ..errors import ConfigError, check_choice, check_int, check_real
from ..problems.ratings import check_ratings_problem
from .base import blas_limit, make_result

SURPRISE_ALGORITHMS = {"svd": "SVD", "svdpp": "SVDpp"}
SURPRISE_MISSING = (
    "scikit-surprise is not installed: `pip install algoreg[surprise]` (or `pip install "
    "scikit-surprise`) to run its SVD and SVD++ baselines"
)


# ----------------------------------------------------------------------------- bias model


def check_bias_model(*, lams: Any, sweeps: Any, seed: Any) -> dict:
    """:func:`bias_model`'s settings, checked without a problem."""
    values = list(lams) if isinstance(lams, list | tuple) else [lams]
    if not values:
        raise ConfigError("lams must be a value or a non-empty list of values")
    return {
        "lams": [check_real(f"lams[{i}]", v, low=0.0) for i, v in enumerate(values)],
        "sweeps": check_int("sweeps", sweeps, low=1),
        "seed": check_int("seed", seed, low=0),
    }


def bias_model(
    problem,
    *,
    lams: Sequence[float] | float = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0),
    sweeps: int = 10,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """The user/item bias model P = μ + b_u + b_i (:func:`~algoreg.problems.bias.fit_biases`,
    λ_u = λ_i = λ) with λ of ``lams`` chosen by the problem's validation RMSE (one λ without a
    validation set). Metric ``chosen_lam`` holds the choice; ``seed`` is recorded only."""
    from ..problems.bias_fit import tuned_biases

    problem = check_ratings_problem(problem, "bias_model")
    s = check_bias_model(lams=lams, sweeps=sweeps, seed=seed)
    if problem.val is None and len(s["lams"]) > 1:
        raise ConfigError(
            f"bias_model: choosing among {len(s['lams'])} lams needs a validation set (a "
            "study's problem.validation > 0); give one lam otherwise"
        )
    with blas_limit(blas_threads):
        t0 = time.perf_counter()
        mu, bu, bi, lam = tuned_biases(problem.train, problem.val, s["lams"], s["sweeps"])
        W = mu + bu[:, None] + bi[None, :] - problem.baseline
        result = make_result(
            problem,
            W,
            kind="bias_model",
            converged=True,
            steps=s["sweeps"],
            objective=0.0,
            history={},
            wall_time=time.perf_counter() - t0,
            seed=s["seed"],
            params=s,
        )
    result.metrics["chosen_lam"] = float(lam)
    return result


# ---------------------------------------------------------------------- scikit-surprise


def check_surprise(
    *,
    algorithm: Any,
    n_factors: Any,
    n_epochs: Any,
    lr_all: Any,
    reg_all: Any,
    seed: Any,
) -> dict:
    """:func:`surprise_model`'s settings, checked without a problem (or scikit-surprise)."""

    def opt(name, value, check):
        return None if value is None else check(name, value)

    return {
        "algorithm": check_choice("algorithm", algorithm, tuple(SURPRISE_ALGORITHMS)),
        "n_factors": opt("n_factors", n_factors, lambda n, v: check_int(n, v, low=1)),
        "n_epochs": opt("n_epochs", n_epochs, lambda n, v: check_int(n, v, low=1)),
        "lr_all": opt("lr_all", lr_all, lambda n, v: check_real(n, v, low=0.0, low_open=True)),
        "reg_all": opt("reg_all", reg_all, lambda n, v: check_real(n, v, low=0.0)),
        "seed": check_int("seed", seed, low=0),
    }


def surprise_available() -> bool:
    """Whether scikit-surprise can be imported."""
    try:
        import surprise  # noqa: F401
    except ImportError:
        return False
    return True


def surprise_predictions(algo, trainset, shape: tuple[int, int]) -> np.ndarray:
    """The dense m × n matrix of a fitted surprise ``SVD`` / ``SVDpp``'s unclipped estimates
    (what ``algo.predict(u, i, clip=False)`` returns, ids being 0-based ints): μ + b_u + b_i +
    q_iᵀ(p_u [+ |I_u|^{-½} Σ_{j∈I_u} y_j]), with the bias (factor) terms of a user or item
    absent from the training set left out, as surprise does."""
    m, n = shape
    users = np.full(m, -1)
    items = np.full(n, -1)
    for inner in trainset.all_users():
        users[int(trainset.to_raw_uid(inner))] = inner
    for inner in trainset.all_items():
        items[int(trainset.to_raw_iid(inner))] = inner
    ku, ki = users >= 0, items >= 0
    bu = np.where(ku, np.asarray(algo.bu)[np.maximum(users, 0)], 0.0)
    bi = np.where(ki, np.asarray(algo.bi)[np.maximum(items, 0)], 0.0)
    if not getattr(algo, "biased", True):
        bu, bi = np.zeros(m), np.zeros(n)
    pu = np.asarray(algo.pu)[np.maximum(users, 0)] * ku[:, None]
    if hasattr(algo, "yj"):  # SVD++: the implicit feedback of the items each user rated
        yj = np.asarray(algo.yj)
        for u in np.flatnonzero(ku):
            rated = [j for j, _ in trainset.ur[users[u]]]
            pu[u] += yj[rated].sum(0) / np.sqrt(len(rated))
    qi = np.asarray(algo.qi)[np.maximum(items, 0)] * ki[:, None]
    mean = trainset.global_mean if getattr(algo, "biased", True) else 0.0
    return mean + bu[:, None] + bi[None, :] + pu @ qi.T


def surprise_model(
    problem,
    *,
    algorithm: str = "svd",
    n_factors: int | None = None,
    n_epochs: int | None = None,
    lr_all: float | None = None,
    reg_all: float | None = None,
    seed: int = 0,
    blas_threads: int | None = 1,
) -> FitResult:
    """scikit-surprise's ``SVD`` (``algorithm="svd"``, Funk's biased MF by SGD) or ``SVDpp``
    (``"svdpp"``, Koren's SVD++) fitted to the problem's training ratings, its library
    defaults for every setting left None, ``random_state=seed``. Raises :class:`ConfigError`
    naming the extra to install when scikit-surprise is absent."""
    problem = check_ratings_problem(problem, "surprise")
    s = check_surprise(
        algorithm=algorithm,
        n_factors=n_factors,
        n_epochs=n_epochs,
        lr_all=lr_all,
        reg_all=reg_all,
        seed=seed,
    )
    try:
        import surprise
    except ImportError:
        raise ConfigError(SURPRISE_MISSING) from None
    kwargs = {
        k: v for k in ("n_factors", "n_epochs", "lr_all", "reg_all") if (v := s[k]) is not None
    }
    with blas_limit(blas_threads):
        t0 = time.perf_counter()
        tr = problem.train
        raw = [
            (int(u), int(i), float(r), None)
            for u, i, r in zip(tr.users, tr.items, tr.values, strict=True)
        ]
        reader = surprise.Reader(rating_scale=problem.rating_range)
        trainset = surprise.Dataset(reader).construct_trainset(raw)
        algo = getattr(surprise, SURPRISE_ALGORITHMS[s["algorithm"]])(
            random_state=s["seed"], **kwargs
        )
        algo.fit(trainset)
        W = surprise_predictions(algo, trainset, problem.shape) - problem.baseline
        result = make_result(
            problem,
            W,
            kind="surprise",
            converged=True,
            steps=0,
            objective=0.0,
            history={},
            wall_time=time.perf_counter() - t0,
            seed=s["seed"],
            params=s,
        )
    return result


def surprise_label(settings: dict[str, Any], with_lam: bool) -> str:
    """``surprise SVD`` / ``surprise SVD++``."""
    return "surprise " + {"svd": "SVD", "svdpp": "SVD++"}[settings["algorithm"]]


__all__ = [
    "bias_model",
    "check_bias_model",
    "check_surprise",
    "surprise_available",
    "surprise_label",
    "surprise_model",
    "surprise_predictions",
]
