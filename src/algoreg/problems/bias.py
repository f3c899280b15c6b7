"""Bias baselines for a :class:`~algoreg.problems.RatingsProblem`: the global mean and
regularized user/item biases, P_ui = μ + b_u + b_i, scored by the problem's own metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, check_int, check_real
from .ratings import RatingsProblem


@dataclass(frozen=True, eq=False)
class BiasModel:
    """Predictions ``P_ui = mean + user_bias[u] + item_bias[i]`` and their metrics on a problem
    (``metrics`` as from :meth:`RatingsProblem.evaluate`)."""

    name: str
    mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    metrics: dict[str, float]
    params: dict[str, Any]

    def predictions(self) -> np.ndarray:
        """The dense m × n matrix of predicted ratings (unclipped)."""
        return self.mean + self.user_bias[:, None] + self.item_bias[None, :]

    @property
    def rmse(self) -> float:
        return self.metrics["rmse"]


def _score(problem: RatingsProblem, name, mean, bu, bi, params) -> BiasModel:
    W = mean + bu[:, None] + bi[None, :] - problem.baseline
    metrics = problem.evaluate(W)
    return BiasModel(name, float(mean), bu, bi, metrics, params)


def global_mean(problem: RatingsProblem) -> BiasModel:
    """Predict the mean training rating μ for every entry (test RMSE = the test ratings'
    root-mean-square deviation from μ)."""
    if not isinstance(problem, RatingsProblem):
        raise ConfigError(f"global_mean needs a RatingsProblem, got {type(problem).__name__}")
    m, n = problem.shape
    mu = float(np.mean(problem.train.values))
    return _score(problem, "global_mean", mu, np.zeros(m), np.zeros(n), {})


BIAS_LAMS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)  # the λ grid a validation split chooses from


def fit_biases(
    users: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    shape: tuple[int, int],
    *,
    lam_user: float = 5.0,
    lam_item: float = 5.0,
    sweeps: int = 10,
) -> tuple[float, np.ndarray, np.ndarray]:
    """(μ, b_user, b_item) minimising Σ_Ω (R_ui − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i²
    with μ the mean rating, by ``sweeps`` exact alternating minimisations (items first):
    b_i = Σ_{u∈Ω_i} (R_ui − μ − b_u) / (λ_i + |Ω_i|), then b_u likewise. Users or items
    without ratings get bias 0."""
    m, n = shape
    mu = float(np.mean(values))
    r = np.asarray(values, dtype=np.float64) - mu
    n_u = np.bincount(users, minlength=m).astype(np.float64)
    n_i = np.bincount(items, minlength=n).astype(np.float64)
    bu, bi = np.zeros(m), np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 for an unrated, unpenalized id
        for _ in range(sweeps):
            bi = np.bincount(items, r - bu[users], minlength=n) / (lam_item + n_i)
            bi = np.where(n_i > 0, bi, 0.0)
            bu = np.bincount(users, r - bi[items], minlength=m) / (lam_user + n_u)
            bu = np.where(n_u > 0, bu, 0.0)
    return mu, bu, bi


def tuned_biases(
    train, val=None, lams=BIAS_LAMS, sweeps: int = 10
) -> tuple[float, np.ndarray, np.ndarray, float]:
    """(μ, b_user, b_item, λ) of :func:`fit_biases` on ``train`` (:class:`Ratings`) with
    λ_u = λ_i = λ: the λ of ``lams`` with the lowest RMSE on ``val`` (a validation set), or
    5 without one."""
    best = None
    for lam in lams if val is not None else (5.0,):
        mu, bu, bi = fit_biases(
            train.users,
            train.items,
            train.values,
            train.shape,
            lam_user=lam,
            lam_item=lam,
            sweeps=sweeps,
        )
        if val is None:
            return mu, bu, bi, lam
        err = float(np.sqrt(np.mean((mu + bu[val.users] + bi[val.items] - val.values) ** 2)))
        if best is None or err < best[0]:
            best = (err, mu, bu, bi, lam)
    return best[1:]


def bias_baseline(
    problem: RatingsProblem, *, lam_user: float = 5.0, lam_item: float = 5.0, sweeps: int = 10
) -> BiasModel:
    """Regularized user/item biases: P_ui = μ + b_u + b_i minimising

        Σ_Ω (R_ui − μ − b_u − b_i)² + λ_u Σ_u b_u² + λ_i Σ_i b_i²

    (μ = mean training rating) by :func:`fit_biases`. Defaults λ_u = λ_i = 5: on
    MovieLens-100K the test RMSE varies little with them (u1: 0.953–0.969 for λ from 1 to 25;
    Koren's (2008) Netflix values λ_u = 10, λ_i = 25 over-shrink on this smaller data set).
    """
    if not isinstance(problem, RatingsProblem):
        raise ConfigError(f"bias_baseline needs a RatingsProblem, got {type(problem).__name__}")
    lam_user = check_real("lam_user", lam_user, low=0.0)
    lam_item = check_real("lam_item", lam_item, low=0.0)
    sweeps = check_int("sweeps", sweeps, low=1)
    tr = problem.train
    mu, bu, bi = fit_biases(
        tr.users,
        tr.items,
        tr.values,
        problem.shape,
        lam_user=lam_user,
        lam_item=lam_item,
        sweeps=sweeps,
    )
    params = {"lam_user": lam_user, "lam_item": lam_item, "sweeps": sweeps}
    return _score(problem, "bias", mu, bu, bi, params)
