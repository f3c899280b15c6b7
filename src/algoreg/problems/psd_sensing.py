"""Symmetric matrix sensing with a PSD low-rank truth, for Burer–Monteiro and its lifting.

Find M ⪰ 0 of rank ≤ r with 𝒜(M) = b, 𝒜(M) = [⟨A_i, M⟩]_{i≤m}, A_i symmetric. The variable
read by the loss is X (n × r, Burer–Monteiro, loss ¼‖𝒜(XXᵀ) − b‖²) or the unfolding of a lifted
tensor w of odd order l (loss f_l(w) = ¼‖𝒜^{⊗l}(S(wwᵀ)) − b^{⊗l}‖²; :mod:`.lifting`). Two
instances (Ma, Lavaei & Sojoudi 2023):

- ``pmc`` (perturbed matrix completion): M* = zzᵀ, z = (1, 0, 1, 0, …); a mask that is 1 on
  the diagonal and on every row and column of odd (0-based) index — where z is 0 — and ε
  elsewhere, and one measurement A_(i,j) = mask_ij (e_ie_jᵀ + e_je_iᵀ)/2 per ordered pair
  (m = n²). Burer–Monteiro has spurious local minima here (measured: GD from random starts
  fails for n ≥ 8; from the spectral start it succeeds);
- ``gaussian``: A_i = (G + Gᵀ)/2 with i.i.d. N(0, 1) G, normalized to ‖A_i‖_F = 1, and a
  rank-r truth M* = ZZᵀ normalized to ‖M*‖_F = 1 (the two-layer quadratic network).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError, check_bool, check_choice, check_int, check_real
from . import lifting
from .base import Array, Problem

INSTANCES = ("gaussian", "pmc")
SUCCESS = 0.05  # ‖M̂ − M*‖_F at most this: recovered (the paper's threshold)


class PsdSensingProblem(Problem):
    """Measurements b = 𝒜(M*) of M* = ZZᵀ (``truth`` Z, n × r) by symmetric ``A`` (m, n, n).

    Metrics, from X̂ = the variable (order 1) or the rank-1 vector extracted from the lifted
    tensor (:func:`.lifting.extract`), M̂ = X̂X̂ᵀ: ``dist`` ‖M̂ − M*‖_F, ``test_error``
    ‖M̂ − M*‖_F/‖M*‖_F, ``success`` (1 when dist ≤ 0.05), ``unlifted_loss`` ¼‖𝒜(M̂) − b‖².
    ``data()['spectral']`` is the top eigenvector of 𝒜*(b) = Σ b_i A_i (a spectral start).
    With ``normalize`` every A_i is divided by √λ₁(𝒜*(b)), so that λ₁(𝒜*(b)) = 1: the same
    solutions, and one step size means the same thing at every n (the lifted objective's
    curvature near 0 scales as λ₁(𝒜*(b))^l).
    """

    kind = "psd_sensing"

    def __init__(
        self, A: np.ndarray, truth: np.ndarray, *, normalize: bool = False, seed: int | None = None
    ) -> None:
        A = np.asarray(A, dtype=np.float64)
        truth = np.asarray(truth, dtype=np.float64)
        if A.ndim != 3 or A.shape[1] != A.shape[2] or A.shape[0] < 1:
            raise ConfigError(f"A must be m ≥ 1 symmetric n × n matrices, got shape {A.shape}")
        asym = np.max(np.abs(A - A.transpose(0, 2, 1)), initial=0.0)
        if asym > 1e-12 * max(1.0, np.max(np.abs(A))):
            i = int(np.argmax(np.max(np.abs(A - A.transpose(0, 2, 1)), axis=(1, 2))))
            raise ConfigError(f"A[{i}] is not symmetric (max |A − Aᵀ| = {asym:.3g})")
        n = A.shape[1]
        if truth.ndim != 2 or truth.shape[0] != n or not 1 <= truth.shape[1] < n:
            raise ConfigError(f"truth must be n × r with 1 ≤ r < n = {n}, got {truth.shape}")
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(truth))):
            raise ConfigError("A and truth must be finite")
        if normalize:  # A → A/√λ₁(𝒜*(𝒜(M*))): the same solutions, λ₁(𝒜*(b)) = 1
            M = truth @ truth.T
            b = np.einsum("iab,ab->i", A, M)
            A = A / np.sqrt(np.linalg.eigvalsh(np.einsum("i,iab->ab", b, A))[-1])
        self.A, self.truth = A, truth
        self.M = truth @ truth.T
        self.b = np.einsum("iab,ab->i", A, self.M)
        self.shape = truth.shape
        self.n_obs = A.shape[0]
        self.seed = seed
        self.spectral = np.linalg.eigh(np.einsum("i,iab->ab", self.b, A))[1][:, -1]

    def known_truth(self) -> np.ndarray:
        return self.truth

    def signature(self) -> tuple:
        return (type(self).__name__, self.shape, self.n_obs)

    def data(self) -> dict[str, np.ndarray]:
        return {"A": self.A, "b": self.b, "truth": self.truth, "M": self.M,
                "spectral": self.spectral}  # fmt: skip

    @staticmethod
    def loss(W: Array, data: dict[str, Array]) -> Array:
        return lifting.loss(W, data["A"], data["b"], data["truth"].shape[1])

    @staticmethod
    def metrics(W: Array, data: dict[str, Array]) -> dict[str, Array]:
        n, r = data["truth"].shape
        X = lifting.extract(W, n, r)
        M = X @ X.T
        dist = jnp.linalg.norm(M - data["M"])
        residual = jnp.einsum("iab,ab->i", data["A"], M) - data["b"]
        return {
            "test_error": dist / jnp.linalg.norm(data["M"]),
            "dist": dist,
            "success": (dist <= SUCCESS).astype(dist.dtype),
            "unlifted_loss": 0.25 * jnp.sum(residual**2),
        }

    def __repr__(self) -> str:
        return f"PsdSensingProblem(shape={self.shape}, m={self.n_obs})"


def check_psd_sensing(
    n: int,
    instance: str = "gaussian",
    m: int | None = None,
    rank: int = 1,
    epsilon: float = 0.01,
    normalize: bool = True,
    seed: int = 0,
) -> dict:
    """Validated parameters of :func:`psd_sensing` (no data is generated)."""
    instance = check_choice("instance", instance, INSTANCES)
    n = check_int("n", n, low=2)
    rank = check_int("rank", rank, low=1, high=n - 1)
    out = {"shape": (n, rank), "n": n, "instance": instance, "rank": rank}
    if instance == "pmc":
        if m is not None:
            raise ConfigError("m is set by the pmc instance (m = n²); leave it out")
        if rank != 1:
            raise ConfigError("the pmc instance has a rank-1 truth: rank must be 1")
        out |= {"m": n * n, "epsilon": check_real("epsilon", epsilon, low=0.0)}
    else:
        if m is None:
            raise ConfigError("the gaussian instance needs m, the number of measurements")
        out |= {"m": check_int("m", m, low=1), "epsilon": None}
    out["normalize"] = check_bool("normalize", normalize)
    return {**out, "seed": check_int("seed", seed, low=0)}


def psd_sensing(
    n: int,
    instance: str = "gaussian",
    m: int | None = None,
    rank: int = 1,
    epsilon: float | None = 0.01,
    normalize: bool = True,
    *,
    shape: tuple[int, int] | None = None,
    seed: int = 0,
) -> PsdSensingProblem:
    """A ``pmc`` or ``gaussian`` instance (see the module); ``seed`` draws the Gaussian
    measurements and truth (``pmc`` is deterministic). ``shape`` (n, rank) is checked."""
    a = check_psd_sensing(n, instance, None if instance == "pmc" else m, rank,
                          0.01 if epsilon is None else epsilon, normalize, seed)  # fmt: skip
    if shape is not None and tuple(shape) != a["shape"]:
        raise ConfigError(f"shape {tuple(shape)} does not match (n, rank) = {a['shape']}")
    n = a["n"]
    if a["instance"] == "pmc":
        z = (np.arange(n) % 2 == 0).astype(float)  # (1, 0, 1, 0, …)
        odd = np.arange(n) % 2 == 1  # 0-based odd: the rows and columns where z is 0
        mask = np.where(odd[:, None] | odd[None, :] | np.eye(n, dtype=bool), 1.0, a["epsilon"])
        i, j = np.divmod(np.arange(n * n), n)
        A = np.zeros((n * n, n, n))
        A[np.arange(n * n), i, j] += mask[i, j] / 2
        A[np.arange(n * n), j, i] += mask[i, j] / 2
        return PsdSensingProblem(A, z[:, None], normalize=a["normalize"], seed=a["seed"])
    rng = np.random.default_rng(a["seed"])
    G = rng.standard_normal((a["m"], n, n))
    A = (G + G.transpose(0, 2, 1)) / 2
    A /= np.linalg.norm(A, axis=(1, 2), keepdims=True)
    Z = rng.standard_normal((n, a["rank"]))
    Z /= np.sqrt(np.linalg.norm(Z @ Z.T))
    return PsdSensingProblem(A, Z, normalize=a["normalize"], seed=a["seed"])
