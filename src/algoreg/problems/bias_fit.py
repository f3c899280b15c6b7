"""Regularized user/item biases of ratings, fitted by exact alternating minimisation: the
pure array code shared by the bias baselines (:mod:`.bias`) and ratings problems centred by
the bias model (``RatingsProblem(center="bias")``)."""

from __future__ import annotations

import numpy as np

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
    assert best is not None  # at least one λ was tried (checked by the callers)
    return best[1:]


__all__ = ["BIAS_LAMS", "fit_biases", "tuned_biases"]
