"""A fully observed matrix X: fit W to X, and watch which best low-rank approximation W passes.

Jiang, Chen & Ding (2023) run gradient descent on ½‖FGᵀ − X‖_F² from a small start with no
assumption on X ("model-free"): the principal components switch on one at a time, so early
stopping returns the best rank-r approximation X_r = Σ_{i≤r} σ_i u_i v_iᵀ with no explicit
regularizer. The heuristic switch-on time of component i is T_i ≈ ln(1/α)/(ησ_i) for entries of
scale α and step η; it moves by ln(10)/(ησ_i) per 10× smaller α.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_choice, check_int, check_real, check_shape
from ..metrics.dynamics import early_stopping_metrics
from .base import Array, Problem, relative_error

SPECTRA = ("gapped", "power_law")
DEFAULT_VALUES = (1.0, 0.8, 0.6, 0.4)
DEFAULT_TAIL = (0.05, 0.01)


class MatrixProblem(Problem):
    """Fit W to a fully observed X (m × n): loss ½‖W − X‖_F².

    Metrics: ``train_error`` ‖W − X‖_F/‖X‖_F; ``dist_r`` = ‖W − X_r‖_F for r = 1…``max_rank``;
    ``test_error`` ‖W − X_r‖_F/‖X_r‖_F at the target ``rank`` r. With a noise-free ``truth``
    X* (X = X* + noise): ``truth_error`` ‖W − X*‖_F/‖X*‖_F, and with ``validation`` (a second
    noisy copy X' = X* + noise', never trained on) ``val_error`` ‖W − X'‖_F/‖X'‖_F for
    early stopping without the truth; both NaN otherwise.

    After training (:meth:`history_metrics`): the measured switch-on step ``switch_i`` of each
    σ_i (the first log point where σ_i(W) ≥ σ_i(X)/2, interpolated in log σ), the heuristic
    ``switch_pred_i`` = ln(1/α)/(ησ_i) under constant-step GD, ``switch_ratio_i`` (measured /
    predicted) and ``switch_scaled_i`` = ησ_i·switch_i (in units of ln(1/α)); ``switch_ordered``
    1 when σ_1 … σ_r switched on in order, else 0; the oracle
    ``min_dist_r`` = min_t dist_r(t), its step, and ``min_dist_rel_r`` = min_dist_r/‖X − X_r‖_F;
    with a noise-free truth, the oracle ``min_truth_error`` and, for the validation copy's
    early stop, ``vs_excess`` (its truth error over the oracle) and ``overfit`` (final over
    stopped truth error); and a practical stop that needs no oracle: the last log point with
    σ_{r+1}(W) ≤ ``stop_threshold``·σ_{r+1}(X) (before the next component switches on),
    ``ps_step``, ``ps_dist`` and ``ps_test_error`` there.
    """

    kind = "matrix"

    def __init__(
        self,
        X: np.ndarray,
        rank: int,
        *,
        max_rank: int | None = None,
        truth: np.ndarray | None = None,
        validation: np.ndarray | None = None,
        stop_threshold: float = 0.01,
        seed: int | None = None,
    ) -> None:
        X = _finite_matrix("X", X)
        m, n = X.shape
        self.rank = check_int("rank", rank, low=1, high=min(m, n))
        R = min(self.rank + 1, min(m, n)) if max_rank is None else max_rank
        self.max_rank = check_int("max_rank", R, low=self.rank, high=min(m, n))
        self.stop_threshold = check_real("stop_threshold", stop_threshold, low=0.0, low_open=True)
        for name, M in (("truth", truth), ("validation", validation)):
            if M is not None and np.shape(M) != X.shape:
                raise ConfigError(f"{name} has shape {np.shape(M)}, X has {X.shape}")
        if validation is not None and truth is None:
            raise ConfigError("a validation copy needs the noise-free truth it copies")
        self.X = X
        self.truth = None if truth is None else _finite_matrix("truth", truth)
        self.validation = None if validation is None else _finite_matrix("validation", validation)
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        self.sigma = s
        R = self.max_rank
        self.approx = np.cumsum(s[:R, None, None] * U.T[:R, :, None] * Vt[:R, None, :], axis=0)
        self.tail = np.sqrt(np.maximum(np.cumsum((s**2)[::-1])[::-1], 0.0))  # ‖X − X_{i}‖
        self.shape = (m, n)
        self.n_obs = m * n
        self.seed = seed

    def known_truth(self) -> np.ndarray | None:
        return self.truth

    def signature(self) -> tuple:
        return (type(self).__name__, self.shape, self.max_rank)

    def data(self) -> dict[str, np.ndarray]:
        zero = np.zeros_like(self.X)
        return {
            "target": self.X,
            "approx": self.approx,
            "best": self.approx[self.rank - 1],
            "truth": zero if self.truth is None else self.truth,
            "validation": zero if self.validation is None else self.validation,
        }

    @staticmethod
    def loss(W: Array, data: dict[str, Array]) -> Array:
        return 0.5 * jnp.sum((W - data["target"]) ** 2)

    @staticmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        dist = jnp.sqrt(jnp.sum((W[None] - data["approx"]) ** 2, axis=(-2, -1)))
        return {
            "test_error": relative_error(W - data["best"], data["best"]),
            "train_error": relative_error(W - data["target"], data["target"]),
            "truth_error": relative_error(W - data["truth"], data["truth"]),
            "val_error": relative_error(W - data["validation"], data["validation"]),
            **{f"dist_{r + 1}": dist[r] for r in range(data["approx"].shape[0])},
        }

    def history_metrics(self, history: dict[str, Any], model: Any, optimizer: Any) -> dict:
        """Switch-on times, oracle and practical early stopping (see the class)."""
        steps = np.asarray(history["step"], dtype=float)
        S = np.asarray(history["singular_values"], dtype=float)
        out: dict[str, float] = {}
        alpha = getattr(model, "entry_scale", None)
        eta = optimizer.learning_rate if getattr(optimizer, "kind", None) == "gd" else None
        for i in range(self.max_rank):
            sigma = float(self.sigma[i])
            t = _crossing(steps, S[:, i], sigma / 2) if sigma > 0 else math.nan
            out[f"switch_{i + 1}"] = t
            if alpha is not None and eta is not None and sigma > 0 and alpha < 1:
                pred = math.log(1 / alpha) / (eta * sigma)
                out[f"switch_pred_{i + 1}"] = pred
                out[f"switch_ratio_{i + 1}"] = t / pred
                out[f"switch_scaled_{i + 1}"] = eta * sigma * t
        lead = [out[f"switch_{i + 1}"] for i in range(self.rank)]
        out["switch_ordered"] = float(bool(np.all(np.diff(lead) > 0)))  # False with a NaN
        for r in range(1, self.max_rank + 1):
            dist = np.asarray(history[f"dist_{r}"], dtype=float)
            k = int(np.nanargmin(dist)) if np.isfinite(dist).any() else None
            out[f"min_dist_{r}"] = math.nan if k is None else float(dist[k])
            out[f"min_dist_step_{r}"] = math.nan if k is None else float(steps[k])
            rest = float(self.tail[r]) if r < len(self.tail) else 0.0
            out[f"min_dist_rel_{r}"] = out[f"min_dist_{r}"] / rest if rest > 0 else math.nan
        if self.truth is not None:
            out.update(_noise_stops(steps, history))
        r = self.rank
        if r < S.shape[1] and self.sigma[r] > 0:  # (X of rank r: nothing to stop before)
            below = np.flatnonzero(S[:, r] <= self.stop_threshold * self.sigma[r])
            if below.size:
                k = int(below[-1])
                out["ps_step"] = float(steps[k])
                out["ps_dist"] = float(history[f"dist_{r}"][k])
                out["ps_test_error"] = float(history["test_error"][k])
        return out

    def __repr__(self) -> str:
        return f"MatrixProblem(shape={self.shape}, rank={self.rank}, max_rank={self.max_rank})"


def _noise_stops(steps: np.ndarray, history: dict[str, Any]) -> dict[str, float]:
    """With a noise-free truth: the oracle ``min_truth_error``; with a validation copy, the
    early stop at the lowest ``val_error`` (:func:`~algoreg.metrics.early_stopping_metrics`,
    whose ``es_*`` a study records too): ``vs_excess``, its truth error over the oracle, and
    ``overfit``, the final truth error over the stopped one."""
    truth = np.asarray(history["truth_error"], dtype=float)
    out = {"min_truth_error": float(np.nanmin(truth))}
    stop = early_stopping_metrics(history, {}, int(steps[-1])).get("es_truth_error")
    if stop is not None:
        out |= {"vs_excess": stop / out["min_truth_error"], "overfit": float(truth[-1]) / stop}
    return out


def _finite_matrix(name: str, M: Any) -> np.ndarray:
    try:
        M = np.asarray(M, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a numeric matrix: {exc}") from None
    if M.ndim != 2 or 0 in M.shape:
        raise ConfigError(f"{name} must be a non-empty 2-D matrix, got shape {M.shape}")
    bad = np.argwhere(~np.isfinite(M))
    if bad.size:
        i, j = bad[0]
        raise ConfigError(
            f"{name} has {len(bad)} non-finite entr{'y' if len(bad) == 1 else 'ies'} "
            f"(NaN or inf), the first at row {i}, column {j}"
        )
    return M


def _crossing(steps: np.ndarray, values: np.ndarray, level: float) -> float:
    """The first step where ``values`` reaches ``level``, interpolating log(value) linearly
    between the log points around it (exponential growth); NaN if it never does."""
    above = np.flatnonzero(values >= level)
    if above.size == 0:
        return math.nan
    k = int(above[0])
    if k == 0:
        return float(steps[0])
    a, b = values[k - 1], values[k]
    if a <= 0:
        return float(steps[k])
    frac = math.log(level / a) / math.log(b / a)
    return float(steps[k - 1] + frac * (steps[k] - steps[k - 1]))


def _reals(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array; a named error for text or nested lists."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a list of numbers, got {value!r}") from None


def make_spectrum(
    size: int,
    kind: str = "gapped",
    values: list[float] | None = None,
    tail: list[float] | None = None,
    exponent: float = 1.0,
) -> np.ndarray:
    """Singular values σ_1 ≥ … ≥ σ_size ≥ 0.

    ``gapped``: ``values`` (default 1, 0.8, 0.6, 0.4), then a tail evenly spaced from
    ``tail[0]`` down to ``tail[1]`` (default 0.05 to 0.01; [0, 0] for an exact low-rank X).
    ``power_law``: σ_i = i^−exponent.
    """
    check_choice("spectrum", kind, SPECTRA)
    if kind == "power_law":
        if values is not None or tail is not None:
            raise ConfigError("spectrum 'power_law' takes exponent, not values or tail")
        p = check_real("exponent", exponent, low=0.0, low_open=True)
        return np.arange(1, size + 1, dtype=float) ** -p
    lead = _reals("values", DEFAULT_VALUES if values is None else values)
    lo_hi = _reals("tail", DEFAULT_TAIL if tail is None else tail)
    if lead.ndim != 1 or not 1 <= lead.size <= size:
        raise ConfigError(f"values must list 1 to {size} singular values, got {values!r}")
    if lo_hi.shape != (2,):
        raise ConfigError(f"tail must be [first, last], got {tail!r}")
    s = np.concatenate([lead, np.linspace(lo_hi[0], lo_hi[1], size - lead.size)])
    if not np.all(np.isfinite(s)) or np.any(s < 0) or np.any(np.diff(s) > 0):
        raise ConfigError(
            f"values then tail must be finite, >= 0 and non-increasing, got {s[:6].tolist()}…"
        )
    return s


def check_matrix(
    shape: tuple[int, int] | None = None,
    rank: int | None = None,
    spectrum: str = "gapped",
    values: list[float] | None = None,
    tail: list[float] | None = None,
    exponent: float = 1.0,
    noise: float = 0.0,
    validation: bool = False,
    max_rank: int | None = None,
    stop_threshold: float = 0.01,
    path: str | None = None,
    data_sha256: str | None = None,
    seed: int = 0,
) -> dict:
    """Validated parameters of :func:`matrix` (the spectrum is built, no matrix is drawn;
    a ``path`` is read for its shape and content digest)."""
    seed = check_int("seed", seed, low=0)
    if path is not None:
        X = load_matrix(path)
        if shape is not None and tuple(check_shape("shape", shape)) != X.shape:
            raise ConfigError(f"shape {tuple(shape)} does not match {path}'s {X.shape}")
        digest = hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()[:16]
        if data_sha256 is not None and data_sha256 != digest:
            raise ConfigError(f"{path} changed since this trial was defined (digest {digest})")
        m, n = X.shape
        given = {"spectrum": spectrum != "gapped", "values": values, "tail": tail,
                 "noise": noise, "validation": validation}  # fmt: skip
        extra = [k for k, v in given.items() if v]
        if extra:
            raise ConfigError(f"{extra[0]} describes a synthetic X; it cannot go with path")
        out: dict[str, Any] = {"path": str(Path(path).resolve()), "data_sha256": digest}
        if rank is None:
            raise ConfigError("rank (the target rank r of X_r) is required with path")
    else:
        if shape is None:
            raise ConfigError("give shape = [m, n] (a synthetic X) or path (a matrix file)")
        m, n = check_shape("shape", shape)
        s = make_spectrum(min(m, n), spectrum, values, tail, exponent)
        if rank is None:
            if spectrum != "gapped":
                raise ConfigError("rank (the target rank r of X_r) is required")
            rank = len(DEFAULT_VALUES if values is None else values)
        noise = check_real("noise", noise, low=0.0)
        if validation and noise == 0:
            raise ConfigError("validation (a second noisy copy of X) needs noise > 0")
        out = {
            "spectrum": spectrum,
            "values": None if values is None else [float(v) for v in s[: len(values)]],
            "tail": None if tail is None else [float(v) for v in tail],
            "exponent": float(exponent),
            "noise": noise,
            "validation": bool(validation),
        }
    rank = check_int("rank", rank, low=1, high=min(m, n))
    if max_rank is not None:
        check_int("max_rank", max_rank, low=rank, high=min(m, n))
    return {
        "shape": (m, n),
        "rank": rank,
        **out,
        "max_rank": max_rank,
        "stop_threshold": check_real("stop_threshold", stop_threshold, low=0.0, low_open=True),
        "seed": seed,
    }


def load_matrix(path: str | Path) -> np.ndarray:
    """A matrix from ``.npy`` or a text file (``.csv``: commas; else whitespace)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"path {str(p)!r}: no such file (a .npy, .csv or .txt matrix)")
    try:
        if p.suffix == ".npy":
            X = np.load(p, allow_pickle=False)
        else:
            X = np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None, ndmin=2)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"path {str(p)!r}: cannot read a matrix: {exc}") from None
    return _finite_matrix(f"the matrix in {str(p)!r}", X)


def random_orthonormal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A rows × cols matrix with orthonormal columns, Haar-distributed (sign-fixed QR)."""
    Q, R = np.linalg.qr(rng.standard_normal((rows, cols)))
    return Q * np.sign(np.diag(R))


def matrix(
    shape: tuple[int, int] | None = None,
    rank: int | None = None,
    spectrum: str = "gapped",
    values: list[float] | None = None,
    tail: list[float] | None = None,
    exponent: float = 1.0,
    noise: float = 0.0,
    validation: bool = False,
    max_rank: int | None = None,
    stop_threshold: float = 0.01,
    path: str | None = None,
    data_sha256: str | None = None,
    *,
    seed: int = 0,
) -> MatrixProblem:
    """A fully observed X: read from ``path``, or X = U diag(σ) Vᵀ with Haar-random U, V
    (``seed``) and a chosen spectrum (:func:`make_spectrum`), plus ``noise``·N(0, 1) entries; with
    ``validation`` a second noisy copy (independent noise) for early stopping."""
    a = check_matrix(shape, rank, spectrum, values, tail, exponent, noise, validation,
                     max_rank, stop_threshold, path, data_sha256, seed)  # fmt: skip
    kw = {"max_rank": a["max_rank"], "stop_threshold": a["stop_threshold"], "seed": a["seed"]}
    if path is not None:
        return MatrixProblem(load_matrix(path), a["rank"], **kw)
    m, n = a["shape"]
    basis_ss, noise_ss, val_ss = np.random.SeedSequence(a["seed"]).spawn(3)
    rng = np.random.default_rng(basis_ss)
    s = make_spectrum(min(m, n), spectrum, values, tail, exponent)
    U, V = random_orthonormal(m, s.size, rng), random_orthonormal(n, s.size, rng)
    X0 = (U * s) @ V.T
    if a["noise"] == 0:
        return MatrixProblem(X0, a["rank"], **kw)
    X = X0 + a["noise"] * np.random.default_rng(noise_ss).standard_normal((m, n))
    val = X0 + a["noise"] * np.random.default_rng(val_ss).standard_normal((m, n))
    return MatrixProblem(X, a["rank"], truth=X0, validation=val if a["validation"] else None, **kw)
