"""Ratings problems: predict held-out entries of a real, partially observed matrix.

A ratings problem holds two disjoint sets of known entries of an m × n matrix (users × items):
training ratings Ω (what the loss sees) and test ratings T (what the metrics score). The model's
end-to-end matrix ``W`` predicts ``P = μ₀ + W`` where the offset μ₀ is the mean training rating
when ``center=True`` (the default) and 0 otherwise.

Why centre by default: low-rank models start from a small initialization, i.e. from W ≈ 0.
Uncentred, the first phase of training only learns the rating level (mean ≈ 3.5, train loss
≈ 13.7 at W = 0) and a depth-N product must grow a large rank-one component to express it;
centred, W = 0 already predicts the global mean (train loss = rating variance ≈ 1.27) and the
low-rank part models deviations from it, as the classic baselines do. ``center=False`` keeps the
raw scale for experiments that want it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_real
from .base import Array, Problem
from .bias_fit import tuned_biases
from .completion import CompletionProblem
from .sparse import SparseRatingsProblem


@dataclass(frozen=True, eq=False)
class Ratings:
    """Sparse ratings: entry (``users[k]``, ``items[k]``) (0-based) of an m × n grid has value
    ``values[k]``. ``timestamps`` and ``lines`` (1-based line numbers in ``source``) are kept
    when the ratings come from a file, for messages and time-based splits."""

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]
    timestamps: np.ndarray | None = None
    lines: np.ndarray | None = None
    source: str = ""
    _keys: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        users = np.array(self.users, dtype=np.int64).reshape(-1)  # copies: frozen below
        items = np.array(self.items, dtype=np.int64).reshape(-1)
        values = np.array(self.values, dtype=np.float64).reshape(-1)
        m, n = (int(s) for s in self.shape)
        if m < 1 or n < 1:
            raise ConfigError(f"ratings shape must be positive, got {self.shape}")
        if not users.size == items.size == values.size:
            raise ConfigError(
                f"users, items and values differ in length: {users.size}, {items.size}, "
                f"{values.size}"
            )
        where = f" in {self.source}" if self.source else ""
        for name, idx, size in (("user", users, m), ("item", items, n)):
            bad = np.flatnonzero((idx < 0) | (idx >= size))
            if bad.size:
                k = bad[0]
                raise ConfigError(
                    f"{name} index {idx[k]} out of range [0, {size}){where} (entry {k})"
                )
        if not np.all(np.isfinite(values)):
            raise ConfigError(
                f"non-finite rating{where} (entry {np.flatnonzero(~np.isfinite(values))[0]})"
            )
        keys = users * n + items
        order = np.argsort(keys, kind="stable")
        dup = np.flatnonzero(np.diff(keys[order]) == 0)
        if dup.size:
            a, b = order[dup[0]], order[dup[0] + 1]
            raise ConfigError(
                f"duplicated (user {users[a]}, item {items[a]}) (0-based){where}: entries "
                f"{a} and {b}"
            )
        frozen = {"users": users, "items": items, "values": values, "_keys": keys}
        for name in ("timestamps", "lines"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.array(arr, dtype=np.int64).reshape(-1)
                if arr.size != users.size:
                    raise ConfigError(f"{name} has {arr.size} entries, expected {users.size}")
                frozen[name] = arr
        for name, arr in frozen.items():
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "shape", (m, n))

    def __len__(self) -> int:
        return int(self.users.size)

    @property
    def keys(self) -> np.ndarray:
        """Linear index ``user·n + item`` of each rating (unique)."""
        return self._keys

    def subset(self, index: np.ndarray) -> Ratings:
        """The ratings at positions ``index`` (an integer or boolean array)."""

        def pick(a):
            return None if a is None else a[index]

        return Ratings(
            self.users[index],
            self.items[index],
            self.values[index],
            self.shape,
            pick(self.timestamps),
            pick(self.lines),
            self.source,
        )

    def dense(self) -> tuple[np.ndarray, np.ndarray]:
        """(boolean mask, float64 matrix with the ratings and 0 elsewhere)."""
        mask = np.zeros(self.shape, dtype=bool)
        mask[self.users, self.items] = True
        values = np.zeros(self.shape)
        values[self.users, self.items] = self.values
        return mask, values


class RatingsProblem(Problem):
    """Training ratings Ω and test ratings T of an m × n matrix; predictions ``P = μ₀ + W``.

    Train loss (same contract as completion): mean squared error over Ω,
    ``Σ_Ω (μ₀ + W − R)² / |Ω|``. Metrics, over the test ratings T:

    - ``rmse`` = √(Σ_T (P − R)² / |T|) and ``mae`` = Σ_T |P − R| / |T|, predictions unclipped;
    - ``rmse_clipped``, ``mae_clipped``: the same with P clipped to ``rating_range`` (default
      [1, 5]); clipping never increases either error, since every rating lies in the range;
    - ``test_error`` = ``rmse`` (unclipped: it scores the model's matrix itself);
    - ``train_rmse`` = √(train loss);
    - ``val_error``: RMSE (unclipped) on an optional validation set V of held-out training
      ratings (``val``; observed, never trained on), for choosing λ without the test ratings;
      NaN without one.

    μ₀ (``offset``) is the mean training rating with ``center=True`` (default), else 0.
    ``center="bias"`` predicts ``P = μ + b_u + b_i + W`` instead: the regularized user/item
    biases of :func:`~algoreg.problems.bias.fit_biases` fitted on the training ratings (λ
    chosen by the validation RMSE when there is a validation set, else 5), so that W models
    the residuals of the bias model (``offset`` is then μ, and ``user_bias``, ``item_bias``
    hold the biases; :attr:`baseline` is the m × n matrix of offsets in every case).
    Memory: three dense m × n float32 arrays in :meth:`data` (train mask, test mask, and one
    matrix holding both train and test ratings, which are disjoint — the loss reads it only
    under the train mask). Problems of equal shape share a batch (offset and counts are data).
    """

    kind = "ratings"

    def __init__(
        self,
        train: Ratings,
        test: Ratings,
        *,
        center: bool | str = True,
        rating_range: tuple[float, float] = (1.0, 5.0),
        name: str = "",
        val: Ratings | None = None,
    ) -> None:
        if not isinstance(train, Ratings) or not isinstance(test, Ratings):
            raise ConfigError("train and test must be Ratings")
        if val is not None and (
            not isinstance(val, Ratings)
            or val.shape != train.shape
            or np.intersect1d(val.keys, np.union1d(train.keys, test.keys)).size
        ):
            raise ConfigError("val must be Ratings of the same shape, disjoint from train and test")
        if train.shape != test.shape:
            raise ConfigError(f"train shape {train.shape} differs from test shape {test.shape}")
        if len(train) == 0:
            raise ConfigError("no training ratings; at least one is needed")
        if len(test) == 0:
            raise ConfigError("no test ratings; at least one is needed")
        common = np.intersect1d(train.keys, test.keys)
        if common.size:
            u, i = divmod(int(common[0]), train.shape[1])
            raise ConfigError(
                f"{common.size} (user, item) pairs are both in train and test, "
                f"e.g. (user {u}, item {i}) (0-based)"
            )
        center = check_center(center)
        try:
            low, high = rating_range
        except (TypeError, ValueError):
            raise ConfigError(
                f"rating_range must be a pair (low, high), got {rating_range!r}"
            ) from None
        low = check_real("rating_range[0]", low)
        high = check_real("rating_range[1]", high, low=low, low_open=True)
        self.train, self.test = train, test
        self.shape = train.shape
        self.n_obs, self.n_test = len(train), len(test)
        self.center = center
        self.offset = float(np.mean(train.values)) if center else 0.0
        m, n = self.shape
        self.user_bias, self.item_bias, self.bias_lam = np.zeros(m), np.zeros(n), None
        if center == "bias":
            self.offset, self.user_bias, self.item_bias, self.bias_lam = tuned_biases(train, val)
        self.rating_range = (low, high)
        self.name = name
        self.mask = np.zeros(self.shape, dtype=bool)
        self.mask[train.users, train.items] = True
        self.test_mask = np.zeros(self.shape, dtype=bool)
        self.test_mask[test.users, test.items] = True
        self.values = np.zeros(self.shape, dtype=np.float32)
        self.values[train.users, train.items] = train.values
        self.values[test.users, test.items] = test.values
        self.val = val
        self.val_mask = np.zeros(self.shape, dtype=bool)
        if val is not None:
            self.val_mask[val.users, val.items] = True
            self.values[val.users, val.items] = val.values

    @property
    def baseline(self) -> np.ndarray:
        """The m × n offsets added to W: μ₀, or μ + b_u + b_i with ``center="bias"``."""
        return self.offset + self.user_bias[:, None] + self.item_bias[None, :]

    @property
    def observed(self) -> np.ndarray:
        """Centred training ratings ``R − μ₀`` (or ``R − μ − b_u − b_i``) on Ω, 0 elsewhere
        (float64): the matrix a completion method should fit in W's units."""
        out = np.zeros(self.shape)
        tr = self.train
        base = self.offset + self.user_bias[tr.users] + self.item_bias[tr.items]
        out[tr.users, tr.items] = tr.values - base
        return out

    def as_completion(self) -> CompletionProblem:
        """The training data as a :class:`CompletionProblem` without truth (for completion
        baselines): its ``observed`` is :attr:`observed`, so a matrix X it returns is scored
        here by ``self.evaluate(X)`` (predictions μ₀ + X)."""
        return CompletionProblem(None, self.mask, self.observed)

    def predict(self, W: np.ndarray) -> np.ndarray:
        """Predicted ratings ``μ₀ + W`` (``μ + b_u + b_i + W`` with biases; unclipped)."""
        return np.asarray(W, dtype=np.float64) + self.baseline

    def data(self) -> dict[str, np.ndarray]:
        low, high = self.rating_range
        return {
            "mask": self.mask.astype(np.float32),
            "test_mask": self.test_mask.astype(np.float32),
            "values": self.values,
            "offset": (
                self.baseline.astype(np.float32)
                if self.center == "bias"
                else np.asarray(self.offset)
            ),
            "n_obs": np.asarray(float(self.n_obs)),
            "n_test": np.asarray(float(self.n_test)),
            "val_mask": self.val_mask.astype(np.float32),
            "n_val": np.asarray(float(0 if self.val is None else len(self.val))),
            "low": np.asarray(low),
            "high": np.asarray(high),
        }

    @staticmethod
    def loss(W: Array, data: dict[str, Array]) -> Array:
        resid = data["mask"] * (W + data["offset"] - data["values"])
        return jnp.sum(resid**2) / data["n_obs"]

    @staticmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        pred = W + data["offset"]
        t, n = data["test_mask"], data["n_test"]
        err = t * (pred - data["values"])
        err_c = t * (jnp.clip(pred, data["low"], data["high"]) - data["values"])
        train = data["mask"] * (pred - data["values"])
        rmse = jnp.sqrt(jnp.sum(err**2) / n)
        val = data["val_mask"] * (pred - data["values"])
        n_val = data["n_val"]
        val_rmse = jnp.sqrt(jnp.sum(val**2) / jnp.where(n_val > 0, n_val, 1.0))
        return {
            "test_error": rmse,
            "rmse": rmse,
            "mae": jnp.sum(jnp.abs(err)) / n,
            "rmse_clipped": jnp.sqrt(jnp.sum(err_c**2) / n),
            "mae_clipped": jnp.sum(jnp.abs(err_c)) / n,
            "train_rmse": jnp.sqrt(jnp.sum(train**2) / data["n_obs"]),
            "val_error": jnp.where(n_val > 0, val_rmse, jnp.nan),
        }

    def evaluate(self, W: Array) -> dict[str, float]:
        """All metrics of ``W`` (in float64 when JAX's x64 mode is on, else float32)."""
        fdt = jnp.result_type(float)
        data = {k: jnp.asarray(v, fdt) for k, v in self.data().items()}
        W = jnp.asarray(W, fdt)
        out = {"train_loss": self.loss(W, data), **self.metrics(W, data)}
        return {k: float(v) for k, v in out.items()}

    def __repr__(self) -> str:
        name = f"{self.name}, " if self.name else ""
        return (
            f"RatingsProblem({name}shape={self.shape}, n_obs={self.n_obs}, "
            f"n_test={self.n_test}, center={self.center})"
        )


def check_ratings_problem(problem: Any, who: str) -> RatingsProblem:
    """``problem`` when it is a :class:`RatingsProblem`, else a ConfigError naming ``who``."""
    if not isinstance(problem, RatingsProblem):
        raise ConfigError(f"{who} needs a ratings problem, got {type(problem).__name__}")
    return problem


def for_model(problem: Problem, model) -> Problem:
    """The form of ``problem`` a trial of ``model`` trains on: a dense ratings problem becomes
    its :class:`SparseRatingsProblem` when the model has factors (W = L Rᵀ), so each step costs
    O(|Ω|k) instead of forming the m × n product (6mnk FLOPs); the results agree (the tests
    compare them). Any other problem is returned as it is."""
    if isinstance(problem, RatingsProblem) and hasattr(model, "factors"):
        return SparseRatingsProblem.from_ratings(problem)
    return problem


# ------------------------------------------------------------------ study-file registration

CENTERS = (True, False, "bias")


def check_center(center: object) -> bool | str:
    """``center``: True (the mean rating), False (none) or ``"bias"`` (user/item biases)."""
    if center == "bias" or isinstance(center, bool):
        return center
    raise ConfigError(
        f'center must be true (subtract the mean rating), false or "bias" (the mean and '
        f"regularized user/item biases), got {center!r}"
    )


def hold_out(problem: RatingsProblem, fraction: float, seed: int = 0) -> RatingsProblem:
    """The same problem with ``fraction`` of its training ratings (a seeded uniform draw)
    moved to a validation set; μ₀ is recomputed from the remaining training ratings."""
    fraction = check_real("validation", fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    train = problem.train
    n_val = round(fraction * len(train))
    if not 0 < n_val < len(train):
        raise ConfigError(f"validation={fraction} of {len(train)} training ratings is empty")
    order = np.random.default_rng(np.random.SeedSequence([seed, 7])).permutation(len(train))
    return RatingsProblem(
        train.subset(np.sort(order[n_val:])),
        problem.test,
        center=problem.center,
        rating_range=problem.rating_range,
        name=problem.name,
        val=train.subset(np.sort(order[:n_val])),
    )
