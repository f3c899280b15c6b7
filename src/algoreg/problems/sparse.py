"""Matrix completion with sparse observations: index arrays instead of m × n masks.

Memory is O(|Ω| + |V| + |T| + (m + n)r) — observed, validation and test entries, and the truth
stored as factors W* = U Vᵀ — so a 10⁵ × 10⁵ problem with 10⁷ entries fits in a few hundred MB.
The loss reads a model's factors (W = L Rᵀ, :attr:`reads_factors`) and never forms W; a model
without factors still works (its m × n product is gathered at the entries), for small sizes.

When :func:`~algoreg.problems.completion` stores a problem sparsely: see
:data:`DENSE_MAX_ENTRIES` (the rule), or ask for it with :func:`sparse_completion` or
:meth:`SparseCompletionProblem.from_dense`.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_int, check_shape
from ..penalties.factored import factored_distance_sq, factored_frobenius_sq
from .base import Array, Problem
from .sampled import entry_values, sampled_sq_loss, sorted_entries
from .truth import check_sampled_low_rank

# the rule: completion stores a dense mask up to DENSE_MAX_ENTRIES matrix entries m·n (2²²)
# and index arrays above it. A dense trial holds four
# m × n arrays (mask, validation mask, observations, truth: 64 MB in float32 at that size) and
# its loss costs O(mn) a step whatever |Ω|; the sparse one holds O(|Ω|) and costs O(|Ω|k) with
# a model that has factors. Below it every existing study keeps its exact definitions (test
# error over all unobserved entries, the unobserved maximum).
DENSE_MAX_ENTRIES = 2**22
# held-out test entries drawn when the unobserved entries are more than this (else all of them)
TEST_ENTRIES = 2**17


def _rel(diff: Array, ref: Array) -> Array:
    num, den = jnp.sqrt(jnp.sum(diff**2)), jnp.sqrt(jnp.sum(ref**2))
    return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), jnp.nan)


def entries_loss(W: Array | tuple[Array, Array], data: dict[str, Array]) -> Array:
    """Σ_t (W_{i_t j_t} − v_t)²/n over the stored entries, from the factors (L, R) of
    W = L Rᵀ without forming W (:func:`~.sampled.sampled_sq_loss`), or from W itself."""
    if isinstance(W, tuple):
        L, R = W
        return sampled_sq_loss(L, R, data)
    pred = W[data["rows"], data["cols"]]
    return jnp.sum((pred - data["values"]) ** 2) / data["n_obs"]


class SparseCompletionProblem(Problem):
    """Observed entries M_ij = W*_ij + noise for (i, j) ∈ Ω, given as index arrays.

    Train loss: Σ_Ω (W − M)²/|Ω| (as :class:`~algoreg.problems.CompletionProblem`). Metrics:

    - ``test_error`` = ‖P_T(W − W*)‖/‖P_T(W*)‖ on the test entries T: every unobserved entry when
      there are at most :data:`TEST_ENTRIES` of them (then equal to the dense problem's), else a
      uniform sample of that many, disjoint from Ω and V (a relative error on held-out entries);
    - ``rel_error`` = ‖W − W*‖_F/‖W*‖_F and ``mse`` = ‖W − W*‖_F²/(mn), exact over all m·n
      entries from k × k Gram matrices when the model gives factors (W* is stored as U Vᵀ):
      ‖L Rᵀ − U Vᵀ‖_F² = tr(LᵀL RᵀR) − 2 tr(LᵀU VᵀR) + tr(UᵀU VᵀV);
    - ``val_error`` = ‖P_V(W − M)‖/‖P_V(M)‖ on the validation entries (NaN without any).

    ``unobserved_abs_max`` of the dense problem is not computed: it needs every unobserved
    entry of W. Without a known truth (``truth=None``) the truth-based metrics are NaN.
    """

    kind = "completion"
    reads_factors = True

    def __init__(
        self,
        shape: tuple[int, int],
        rows: np.ndarray,
        cols: np.ndarray,
        values: np.ndarray,
        *,
        truth: tuple[np.ndarray, np.ndarray] | None = None,
        val: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        test: tuple[np.ndarray, np.ndarray] | None = None,
        noise: float = 0.0,
        seed: int | None = None,
    ) -> None:
        m, n = check_shape("shape", shape)
        self.shape = (m, n)
        obs = _entries("observed", (m, n), rows, cols, values)
        if obs[0].size == 0:
            raise ConfigError("no observed entry; at least one observation is needed")
        empty = (np.zeros(0, np.int64),) * 2 + (np.zeros(0),)
        val_e = empty if val is None else _entries("val", (m, n), *val)
        if truth is not None:
            U, V = (np.asarray(a, np.float64) for a in truth)
            if U.ndim != 2 or V.ndim != 2 or U.shape[0] != m or V.shape[0] != n:
                raise ConfigError(
                    f"truth must be factors (U, V) of shapes ({m}, r), ({n}, r); got "
                    f"{U.shape}, {V.shape}"
                )
            if U.shape[1] != V.shape[1] or not (np.isfinite(U).all() and np.isfinite(V).all()):
                raise ConfigError("truth factors must be finite with equal column counts")
        else:
            U, V = np.zeros((m, 1)), np.zeros((n, 1))
        test_e = empty[:2] if test is None else _entries("test", (m, n), *test, None)[:2]
        keys = [np.sort(e[0] * n + e[1]) for e in (obs, val_e, test_e)]
        if _overlap(keys[0], keys[1]) or _overlap(keys[0], keys[2]) or _overlap(keys[1], keys[2]):
            raise ConfigError("observed, validation and test entries must be disjoint")
        self.has_truth = truth is not None
        self.U, self.V = U, V
        self.obs, self.val, self.test = obs, val_e, test_e
        self.n_obs = int(obs[0].size)
        self.noise, self.seed = float(noise), seed

    @classmethod
    def from_dense(cls, problem) -> SparseCompletionProblem:
        """The same observations as a dense :class:`~algoreg.problems.CompletionProblem`, test
        entries = every unobserved one (so every metric but ``unobserved_abs_max`` agrees),
        the truth factored by an SVD truncated at its numerical rank."""
        mask, vmask, M = problem.mask, problem.val_mask, problem.observed
        r, c = np.nonzero(mask)
        vr, vc = np.nonzero(vmask)
        tr, tc = np.nonzero(~(mask | vmask))
        truth = None
        if problem.has_truth:
            Uf, s, Vt = np.linalg.svd(problem.truth, full_matrices=False)
            rank = max(1, int(np.sum(s > s[0] * 1e-12))) if s[0] > 0 else 1
            truth = (Uf[:, :rank] * s[:rank], Vt[:rank].T)
        return cls(problem.shape, r, c, M[r, c], truth=truth, val=(vr, vc, M[vr, vc]),
                   test=(tr, tc), noise=problem.noise, seed=problem.seed)  # fmt: skip

    def known_truth(self) -> np.ndarray | None:
        m, n = self.shape
        if not self.has_truth or m * n > DENSE_MAX_ENTRIES:
            return None  # not formed at large sizes
        return self.U @ self.V.T

    def signature(self) -> tuple:
        sizes = (self.n_obs, self.val[0].size, self.test[0].size, self.U.shape[1])
        return (type(self).__name__, self.shape, sizes)

    def data(self) -> dict[str, np.ndarray]:
        (vr, vc, vv), (tr, tc) = self.val, self.test
        U, V = self.U, self.V
        return {
            **sorted_entries(*self.obs),
            "val_rows": vr.astype(np.int32),
            "val_cols": vc.astype(np.int32),
            "val_values": vv,
            "test_rows": tr.astype(np.int32),
            "test_cols": tc.astype(np.int32),
            "test_truth": np.sum(U[tr] * V[tc], -1) if tr.size else np.zeros(0),
            "truth_U": U,
            "truth_V": V,
            "has_truth": np.asarray(float(self.has_truth)),
            "size": np.asarray(float(self.shape[0]) * float(self.shape[1])),
        }

    loss = staticmethod(entries_loss)

    @staticmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        U, V = data["truth_U"], data["truth_V"]
        if isinstance(W, tuple):
            L, R = W
            d2 = factored_distance_sq(L, R, U, V)
        else:
            d2 = jnp.sum((W - U @ V.T) ** 2)
        ref2 = factored_frobenius_sq(U, V)
        rel = jnp.where(ref2 > 0, jnp.sqrt(d2 / jnp.where(ref2 > 0, ref2, 1.0)), jnp.nan)
        test = entry_values(W, data["test_rows"], data["test_cols"])
        known = data["has_truth"] > 0
        out = {
            "test_error": _rel(test - data["test_truth"], data["test_truth"]),
            "rel_error": rel,
            "mse": d2 / data["size"],
        }
        out = {k: jnp.where(known, v, jnp.nan) for k, v in out.items()}
        val = entry_values(W, data["val_rows"], data["val_cols"])
        out["val_error"] = _rel(val - data["val_values"], data["val_values"])
        return out

    def __repr__(self) -> str:
        return (
            f"SparseCompletionProblem(shape={self.shape}, n_obs={self.n_obs}, noise={self.noise})"
        )


def _entries(name, shape, rows, cols, values):
    m, n = shape
    rows, cols = np.asarray(rows).reshape(-1), np.asarray(cols).reshape(-1)
    if not (np.issubdtype(rows.dtype, np.integer) or rows.size == 0) or not (
        np.issubdtype(cols.dtype, np.integer) or cols.size == 0
    ):
        raise ConfigError(f"{name} rows and columns must be integer arrays")
    rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    if rows.size != cols.size:
        raise ConfigError(f"{name}: {rows.size} rows but {cols.size} columns")
    for what, idx, size in (("row", rows, m), ("column", cols, n)):
        bad = np.flatnonzero((idx < 0) | (idx >= size))
        if bad.size:
            raise ConfigError(
                f"{name} {what} index {idx[bad[0]]} out of range [0, {size}) (entry {bad[0]})"
            )
    keys = np.sort(rows * n + cols)
    if np.any(keys[1:] == keys[:-1]):
        raise ConfigError(f"{name}: an entry is given twice")
    if values is None:
        return rows, cols, None
    values = np.asarray(values, np.float64).reshape(-1)
    if values.size != rows.size or not np.isfinite(values).all():
        raise ConfigError(f"{name} values must be {rows.size} finite numbers")
    return rows, cols, values


def sample_entries(
    shape: tuple[int, int], count: int, rng: np.random.Generator, exclude: np.ndarray | None = None
) -> np.ndarray:
    """``count`` distinct linear indices i·n + j drawn uniformly from the m·n entries not in
    ``exclude`` (sorted), in random order, without forming an m × n mask: draw with replacement,
    keep the distinct ones not excluded, top up until enough (O(count log count))."""
    m, n = shape
    size = m * n
    free = size - (0 if exclude is None else exclude.size)
    if count > free:
        raise ConfigError(f"cannot draw {count} entries from {free} free ones")
    if 2 * count > free:  # dense draw: a permutation of the free entries
        keys = np.arange(size, dtype=np.int64)
        if exclude is not None:
            keys = np.setdiff1d(keys, exclude, assume_unique=True)
        return rng.permutation(keys)[:count]
    keys = np.zeros(0, np.int64)
    while keys.size < count:
        need = count - keys.size
        draw = rng.integers(0, size, int(need * 1.05) + 64, dtype=np.int64)
        keys = _distinct(np.concatenate([keys, draw]))
        if exclude is not None and exclude.size:
            pos = np.minimum(np.searchsorted(exclude, keys), exclude.size - 1)
            keys = keys[exclude[pos] != keys]
    return rng.permutation(keys)[:count]


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether sorted key arrays ``a`` and ``b`` share a value."""
    if a.size == 0 or b.size == 0:
        return False
    pos = np.minimum(np.searchsorted(a, b), a.size - 1)
    return bool(np.any(a[pos] == b))


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The sorted distinct values (np.unique's hash path took ≈ 1.4 s per 10⁶ int64 here)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


def _dot_rows(U: np.ndarray, V: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Σ_l U[rows, l]·V[cols, l], in chunks of 2²⁰ entries (bounded temporary memory)."""
    out = np.empty(rows.size)
    for s in range(0, rows.size, 2**20):
        r, c = rows[s : s + 2**20], cols[s : s + 2**20]
        out[s : s + 2**20] = np.einsum("ij,ij->i", U[r], V[c])
    return out


def check_sparse_completion(
    shape: tuple[int, int],
    rank: int,
    n_obs: int,
    noise: float = 0.0,
    validation: float = 0.0,
    n_test: int | None = None,
    seed: int = 0,
) -> dict:
    """Validated parameters of :func:`sparse_completion` (no data is drawn)."""
    out = check_sampled_low_rank(shape, rank, n_obs, noise, validation, seed)
    m, n = out["shape"]
    seed = out.pop("seed")  # keys in the order the trial ids were made with
    out["n_test"] = None if n_test is None else check_int("n_test", n_test, low=0)
    out["seed"] = seed
    if out["n_test"] is not None and out["n_test"] > m * n - out["n_obs"]:
        raise ConfigError(f"n_test={n_test} exceeds the {m * n - out['n_obs']} unobserved entries")
    return out


def sparse_completion(
    shape: tuple[int, int] = (1000, 1000),
    rank: int = 5,
    n_obs: int = 20000,
    *,
    noise: float = 0.0,
    validation: float = 0.0,
    n_test: int | None = None,
    seed: int = 0,
) -> SparseCompletionProblem:
    """Synthetic completion stored sparsely: truth W* = c·U Vᵀ with i.i.d. N(0, 1) U (m × r),
    V (n × r) scaled to ‖W*‖_F = √(mn) (root-mean-square entry 1, as
    :func:`~algoreg.problems.low_rank`; kept as factors), ``n_obs`` uniform distinct entries
    (``validation``: that fraction of them held out), ``n_test`` held-out test entries (default:
    every unobserved one up to :data:`TEST_ENTRIES`, else that many drawn). Nothing m × n is
    formed; 10⁷ entries of a 10⁵ × 10⁵ matrix take ≈ 15 s to draw."""
    a = check_sparse_completion(shape, rank, n_obs, noise, validation, n_test, seed)
    (m, n), r = a["shape"], a["rank"]
    truth_ss, mask_ss, noise_ss, test_ss = np.random.SeedSequence(a["seed"]).spawn(4)
    rng = np.random.default_rng(truth_ss)
    U, V = rng.standard_normal((m, r)), rng.standard_normal((n, r))
    fro = math.sqrt(max(float(np.sum((U.T @ U) * (V.T @ V))), 1e-300))
    U *= math.sqrt(m * n) / fro
    keys = sample_entries((m, n), a["n_obs"], np.random.default_rng(mask_ss))
    n_val = round(a["validation"] * a["n_obs"])
    rows, cols = keys // n, keys % n
    values = _dot_rows(U, V, rows, cols)
    if a["noise"] > 0:
        values = values + a["noise"] * np.random.default_rng(noise_ss).standard_normal(keys.size)
    unobserved = m * n - keys.size
    count = min(unobserved, TEST_ENTRIES) if a["n_test"] is None else a["n_test"]
    test = sample_entries((m, n), count, np.random.default_rng(test_ss), np.sort(keys))
    train, val = slice(n_val, None), slice(0, n_val)
    return SparseCompletionProblem(
        (m, n),
        rows[train],
        cols[train],
        values[train],
        truth=(U, V),
        val=(rows[val], cols[val], values[val]),
        test=(test // n, test % n),
        noise=a["noise"],
        seed=a["seed"],
    )


class SparseRatingsProblem(Problem):
    """A :class:`~algoreg.problems.RatingsProblem` with its ratings as index arrays: the same
    loss Σ_Ω (B + W − R)²/|Ω| with B its offsets (μ₀, or μ + b_u + b_i with ``center="bias"``)
    and metrics (``rmse``, ``mae``, their clipped forms, ``test_error`` = ``rmse``,
    ``train_rmse``, ``val_error``), read from a model's factors without forming W (or gathered
    from a dense W). Memory O(|Ω| + |T| + |V|) instead of three m × n arrays. Make one with
    :meth:`from_ratings`."""

    kind = "ratings"
    reads_factors = True

    def __init__(self, problem) -> None:
        self.source = problem
        self.shape, self.n_obs, self.n_test = problem.shape, problem.n_obs, problem.n_test
        self.offset, self.rating_range = problem.offset, problem.rating_range
        self.center, self.name = problem.center, problem.name

    @classmethod
    def from_ratings(cls, problem) -> SparseRatingsProblem:
        """The sparse form of a (validated) dense ratings problem."""
        return cls(problem)

    def predict(self, W: np.ndarray) -> np.ndarray:
        """Predicted ratings ``B + W`` (unclipped)."""
        return self.source.predict(W)

    def _base(self, part) -> np.ndarray:
        """The offsets B at the entries of ``part`` (a :class:`Ratings`)."""
        p = self.source
        return p.offset + p.user_bias[part.users] + p.item_bias[part.items]

    def signature(self) -> tuple:
        val = 0 if self.source.val is None else len(self.source.val)
        return (type(self).__name__, self.shape, (self.n_obs, self.n_test, val))

    def data(self) -> dict[str, np.ndarray]:
        p = self.source
        train, val, test = p.train, p.val, p.test
        low, high = self.rating_range
        out = {
            **sorted_entries(train.users, train.items, train.values - self._base(train)),
            "test_rows": test.users.astype(np.int32),
            "test_cols": test.items.astype(np.int32),
            "test_values": test.values,
            "test_offset": self._base(test),
            "low": np.asarray(low),
            "high": np.asarray(high),
        }
        if val is None:
            empty = np.zeros(0, np.int32)
            out.update(val_rows=empty, val_cols=empty, val_values=np.zeros(0))
            out["val_offset"] = np.zeros(0)
        else:
            out.update(val_rows=val.users.astype(np.int32), val_cols=val.items.astype(np.int32))
            out.update(val_values=val.values, val_offset=self._base(val))
        return out

    loss = staticmethod(entries_loss)

    @staticmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        def pred(prefix):
            rows, cols = data[f"{prefix}_rows"], data[f"{prefix}_cols"]
            return entry_values(W, rows, cols) + data[f"{prefix}_offset"]

        p = pred("test")
        err = p - data["test_values"]
        err_c = jnp.clip(p, data["low"], data["high"]) - data["test_values"]
        train = entry_values(W, data["rows"], data["cols"]) - data["values"]
        val = pred("val") - data["val_values"]
        n_val = val.shape[-1]
        rmse = jnp.sqrt(jnp.mean(err**2))
        return {
            "test_error": rmse,
            "rmse": rmse,
            "mae": jnp.mean(jnp.abs(err)),
            "rmse_clipped": jnp.sqrt(jnp.mean(err_c**2)),
            "mae_clipped": jnp.mean(jnp.abs(err_c)),
            "train_rmse": jnp.sqrt(jnp.mean(train**2)),
            "val_error": jnp.sqrt(jnp.mean(val**2)) if n_val else jnp.asarray(jnp.nan),
        }

    def __repr__(self) -> str:
        return "Sparse" + repr(self.source)
