"""Deep linear regression with a low-rank truth, the penalty on the end-to-end product or on
each factor, one (penalty, placement, λ, seed) per trial: the study kind ``deep_linear``
(preset ``linear-endtoend``).

Data of replicate s (``numpy.random.default_rng(s)``): W* = U Vᵀ·√(d/r) with U, V orthonormal
d × r, so ‖W*‖_F² = d; pairs y = W* x + σ ε with x, ε ~ N(0, I_d), drawn for training, then
validation, then test. A depth-L linear network x ↦ W_L ⋯ W_1 x (1/√fan-in Gaussian init,
seed s) is trained by full-batch Adam on the mean over pairs of ‖y − ŷ‖² + λ·R, where R is
the ratio ‖W‖_*/‖W‖_F or the nuclear norm ‖W‖_* of the product W = W_L ⋯ W_1
(``on = "product"``) or the sum over the factors (``on = "factors"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import check_choice
from ..regularizers import EndToEnd, Regularizer
from ..regularizers import get as regularizer
from .models import apply_linear, init_linear
from .report import matrix_stats
from .settings import check_penalty, set_int, set_real
from .train import predict, train

PENALTIES = ("ratio", "nuclear")
PLACEMENTS = ("product", "factors")


@dataclass(frozen=True)
class LinearSettings:
    """The ``[model]`` settings of a ``deep_linear`` trial."""

    dim: int = 20
    rank: int = 2
    n_train: int = 40
    n_val: int = 200
    n_test: int = 2000
    noise: float = 0.5
    depth: int = 3
    penalty: str = "none"
    on: str = "product"
    lam: float = 0.0
    learning_rate: float = 3e-3
    steps: int = 5000

    def __post_init__(self) -> None:
        set_int(self, "dim", low=1)
        set_int(self, "rank", low=1, high=self.dim)
        for name in ("n_train", "n_val", "n_test", "depth", "steps"):
            set_int(self, name, low=1)
        set_real(self, "noise", low=0.0)
        check_penalty("penalty", self.penalty, PENALTIES)
        check_choice("on", self.on, PLACEMENTS)
        set_real(self, "lam", low=0.0)
        set_real(self, "learning_rate", low=0.0, low_open=True)


def data(s: LinearSettings, seed: int):
    """(W*, (x, y) for training, validation, test) of replicate ``seed``, float32 pairs."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((s.dim, s.rank)))[0]
    V = np.linalg.qr(rng.standard_normal((s.dim, s.rank)))[0]
    W = U @ V.T * np.sqrt(s.dim / s.rank)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.standard_normal((n, s.dim))
        y = x @ W.T + s.noise * rng.standard_normal((n, s.dim))
        return x.astype(np.float32), y.astype(np.float32)

    return W, sample(s.n_train), sample(s.n_val), sample(s.n_test)


def run(config: dict[str, Any]) -> dict[str, Any]:
    """One trial: ``val_mse`` and ``test_mse`` (mean ‖y − ŷ‖²; noise floor d·σ²), ``rel_err``
    = ‖W − W*‖_F/‖W*‖_F, ``rank`` (#σ > 10⁻²σ_1) and effective rank ``erank`` of the product,
    ``factor_erank`` the factors' mean effective rank."""
    s = LinearSettings(**{k: v for k, v in config["model"].items() if k != "kind"})
    seed = config["seed"]
    Wstar, (xt, yt), (xv, yv), (xs, ys) = data(s, seed)
    if s.penalty == "none":
        reg: Regularizer | None = None
    elif s.on == "product":
        reg = EndToEnd(lam=s.lam, kind=s.penalty)
    else:
        reg = regularizer(s.penalty, lam=s.lam)
    params, losses = train(
        apply_linear,
        init_linear([s.dim] * (s.depth + 1), seed=seed),
        xt,
        yt,
        reg=reg,
        loss="mse",
        lr=s.learning_rate,
        epochs=s.steps,
        batch_size=s.n_train,
        seed=seed,
    )
    W = np.asarray(EndToEnd().product(params), np.float64)
    stats = matrix_stats(W)

    def mse(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.sum((predict(apply_linear, params, x) - y) ** 2, -1)))

    factors = [matrix_stats(np.asarray(f["w"]))["effective_rank"] for f in params]
    metrics = {
        "val_mse": mse(xv, yv),
        "test_mse": mse(xs, ys),
        "rel_err": float(np.linalg.norm(W - Wstar) / np.linalg.norm(Wstar)),
        "rank": float(stats["rank"]),
        "erank": float(stats["effective_rank"]),
        "factor_erank": float(np.mean(factors)),
        "train_loss": float(losses[-1]),
    }
    status = "max_steps" if np.isfinite(losses[-1]) else "diverged"
    return {"metrics": metrics, "status": status, "steps": s.steps}


def label(settings: dict[str, Any], with_lam: bool) -> str:
    """ "none", "ratio on product", "nuclear per factor", …; with λ when asked."""
    if settings["penalty"] == "none":
        return "none"
    where = "on product" if settings["on"] == "product" else "per factor"
    family = f"{settings['penalty']} {where}"
    return f"{family} λ={settings['lam']:g}" if with_lam else family


__all__ = ["PENALTIES", "PLACEMENTS", "LinearSettings", "data", "label", "run"]
