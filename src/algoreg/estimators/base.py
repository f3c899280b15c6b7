"""The scikit-learn-style base class shared by every completer.

A completer treats ``X`` (2-D, NaN = missing) as a partially observed matrix and fills the
missing entries with a low-rank (or implicitly regularized) fit:

- ``fit(X)`` builds ``CompletionProblem(None, mask, observed)`` and runs the method; it stores
  ``completed_`` (X with its missing entries filled; observed entries are kept exactly as
  given, as scikit-learn's imputers do), ``result_`` (the :class:`~algoreg.engine.FitResult`:
  the method's own matrix — which for penalized methods also smooths the observed entries —,
  status, steps, wall time), ``n_iter_``, ``mean_`` and ``components_`` (see below).
- ``transform(X)`` fills each row independently, so the result does not depend on which
  other rows are passed: a row identical (values and missing pattern) to a row seen in ``fit``
  gets that row of ``completed_``; any other row is *folded in*: its observed entries are fit
  by least squares as ``mean_ + a·components_`` and its missing entries are read off that fit
  (``mean_``: the column means of the fitted matrix; ``components_``: the k leading right
  singular vectors of the fitted matrix minus ``mean_``, k the fewest that hold 99.99% of
  Σσ_i²). Matrix completion is transductive; fold-in is the usual extension to unseen rows
  (as in PCA-based imputation).
- ``fit_transform(X)`` equals ``fit(X).transform(X)``, i.e. ``completed_``.

``center=True`` subtracts each column's mean over its observed entries before the fit and adds
it back afterwards (useful for data with large per-column offsets such as ratings); the
default models the matrix itself, as the papers do.

Invalid input raises :class:`~algoreg.errors.ConfigError` (a ``ValueError``): not 2-D, empty,
complex, containing ±inf, or with no observed entry; non-numeric input raises
:class:`NonNumericInputError` (both a ``ConfigError`` and a ``TypeError``, the type NumPy and
scikit-learn use for it). A row or column with no observed entry cannot be recovered; ``fit``
warns with :class:`MissingDataWarning`. A failed solve raises
:class:`~algoreg.baselines.SolverError` naming the solver and its status.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..engine import FitResult
from ..errors import ConfigError
from ..problems import CompletionProblem

FOLD_IN_ENERGY = 1.0 - 1e-4


class NonNumericInputError(ConfigError, TypeError):
    """Input that cannot be converted to floating point numbers."""


class MissingDataWarning(UserWarning):
    """A row or column of the input has no observed entry, so it cannot be recovered."""


def _row_keys(X: np.ndarray) -> list[bytes]:
    """One hashable key per row: values with NaN → +inf (never valid input), −0.0 → 0.0."""
    canon = np.where(np.isnan(X), np.inf, X) + 0.0
    return [row.tobytes() for row in np.ascontiguousarray(canon)]


class BaseCompleter(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base class: validation, centering, row matching and fold-in (see the module docstring).

    Subclasses implement ``_solve(problem) -> FitResult`` and ``_check_params()``.
    """

    def _check_params(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _solve(self, problem: CompletionProblem, params: dict[str, Any]) -> FitResult:
        raise NotImplementedError  # pragma: no cover - abstract

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN marks a missing entry
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        name = type(self).__name__
        try:  # (sparse input and ragged lists: validate_data says what is wrong)
            raw = None if issparse(X) else np.asarray(X)
        except (TypeError, ValueError):
            raw = None
        if raw is not None and raw.dtype.kind in "USO":  # text or objects: numbers inside?
            try:
                raw.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise NonNumericInputError(
                    f"{name}: X must be a numeric matrix (NaN = missing), got "
                    f"{type(X).__name__} with {exc}"
                ) from exc
        X = self._validate_array(X, reset=reset)
        scale = float(np.nanmax(np.abs(X))) if X.size and not np.isnan(X).all() else 0.0
        limit = float(np.sqrt(np.finfo(np.float64).max / max(X.size, 1)))
        if scale > limit:
            raise ConfigError(
                f"{name}: X's entries reach {scale:.3g}; beyond {limit:.3g} their sum of squares "
                "overflows float64 for a matrix of this size: divide X by a scale (e.g. its "
                "largest entry) and multiply the completed matrix back"
            )
        return X

    def _validate_array(self, X: Any, *, reset: bool) -> np.ndarray:
        try:
            return validate_data(
                self,
                X,
                reset=reset,
                dtype=np.float64,
                ensure_all_finite="allow-nan",
                ensure_2d=True,
                accept_sparse=False,
            )
        except TypeError as exc:
            raise NonNumericInputError(f"{type(self).__name__}: {exc}") from exc
        except ValueError as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{type(self).__name__}: {exc}") from exc

    def fit(self, X: Any, y: Any = None) -> BaseCompleter:
        """Complete the matrix ``X`` (NaN = missing); ``y`` is ignored."""
        params = self._check_params()
        center = bool(self.center)
        X = self._validate(X, reset=True)
        mask = ~np.isnan(X)
        if not mask.any():
            raise ConfigError(
                f"{type(self).__name__}: X ({X.shape[0]}×{X.shape[1]}) has no observed entry "
                "(all NaN); there is nothing to complete"
            )
        empty_rows = np.flatnonzero(~mask.any(axis=1))
        empty_cols = np.flatnonzero(~mask.any(axis=0))
        if empty_rows.size or empty_cols.size:
            warnings.warn(
                f"{type(self).__name__}: {empty_rows.size} row(s) {empty_rows[:10].tolist()} and "
                f"{empty_cols.size} column(s) {empty_cols[:10].tolist()} have no observed entry "
                "and cannot be recovered; they are filled from the fit alone",
                MissingDataWarning,
                stacklevel=2,
            )
        offset = np.zeros(X.shape[1])
        if center:
            counts = mask.sum(axis=0)
            sums = np.where(mask, X, 0.0).sum(axis=0)
            offset = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        observed = np.where(mask, X - offset, 0.0)
        result = self._solve(CompletionProblem(None, mask, observed), params)
        fitted = np.asarray(result.matrix, dtype=np.float64) + offset

        self.result_ = result
        self.n_iter_ = int(result.steps)
        self.completed_ = np.where(mask, X, fitted)
        self.mean_ = fitted.mean(axis=0)
        _, s, Vt = np.linalg.svd(fitted - self.mean_, full_matrices=False)
        energy = np.cumsum(s**2)
        k = 0 if energy[-1] == 0 else int(np.searchsorted(energy, FOLD_IN_ENERGY * energy[-1])) + 1
        self.components_ = Vt[:k]
        index: dict[bytes, int] = {}
        for i, key in enumerate(_row_keys(X)):
            index.setdefault(key, i)
        self._row_index = index
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``X`` with its missing entries filled (observed entries unchanged)."""
        check_is_fitted(self, "completed_")
        X = self._validate(X, reset=False)
        out = np.empty_like(X)
        for i, key in enumerate(_row_keys(X)):
            j = self._row_index.get(key)
            out[i] = self.completed_[j] if j is not None else self._fold_in(X[i])
        return out

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X).transform(X)``: the completed training matrix."""
        return self.fit(X, y).completed_.copy()

    def _fold_in(self, x: np.ndarray) -> np.ndarray:
        seen = ~np.isnan(x)
        estimate = self.mean_.copy()
        if seen.any() and self.components_.shape[0]:
            basis = self.components_[:, seen].T
            coef, *_ = np.linalg.lstsq(basis, x[seen] - self.mean_[seen], rcond=None)
            estimate = estimate + coef @ self.components_
        return np.where(seen, x, estimate)
