"""Low-rank hidden layers of an MLP on digits from a per-layer spectral penalty, one
(optimizer, penalty, λ, seed) per trial: the study kind ``mlp_lowrank`` (preset
``lowrank-digits``).

From scratch with ``optimizer`` (Adam or plain SGD) on cross-entropy + λ·Σ_j R(W_j) over the
hidden weight matrices W_1, …, W_{L−1} (not the classifier: a scale-invariant penalty on it
collapses its rank below the number of classes), R ∈ {ratio ‖W‖_*/‖W‖_F, nuclear ‖W‖_*}.
After training, each hidden matrix is truncated to its singular values σ_i > τ·σ_1 (no
fine-tune) at the largest τ in ``taus`` whose validation accuracy stays within ``tolerance``
of the untruncated model's (the test split is only reported): compression = Σ mn /
Σ min(r(m + n), mn) over the hidden matrices. Replicate s initializes and draws minibatches
with ``s``; the data split is fixed by ``data_seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, check_real, unknown_name
from ..optim import OPTIMIZERS
from ..regularizers import L1, REGULARIZERS
from ..regularizers import get as regularizer
from .models import apply_mlp, init_mlp
from .prune import truncate_rank
from .report import layer_report
from .settings import check_penalty, digits_split, set_int, set_real, set_sizes
from .train import accuracy, train

PENALTIES = ("ratio", "nuclear")
TAUS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4)


@dataclass(frozen=True)
class LowRankSettings:
    """The ``[model]`` settings of an ``mlp_lowrank`` trial."""

    sizes: tuple[int, ...] = (64, 128, 128, 10)
    penalty: str = "none"
    lam: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 3e-3
    epochs: int = 80
    batch_size: int = 128
    taus: tuple[float, ...] = TAUS
    tolerance: float = 0.01
    data_seed: int = 0

    def __post_init__(self) -> None:
        set_sizes(self)
        if len(self.sizes) < 3:
            raise ConfigError(f"sizes must have a hidden layer (>= 3 widths), got {self.sizes}")
        check_penalty("penalty", self.penalty, tuple(p for p in PENALTIES if p in REGULARIZERS))
        set_real(self, "lam", low=0.0)
        if self.optimizer not in OPTIMIZERS:  # algoreg.optim's names (plain SGD is "gd")
            raise unknown_name("optimizer", self.optimizer, OPTIMIZERS)
        set_real(self, "learning_rate", low=0.0, low_open=True)
        set_int(self, "epochs", low=1)
        set_int(self, "batch_size", low=1)
        set_real(self, "tolerance", low=0.0)
        set_int(self, "data_seed", low=0)
        if not isinstance(self.taus, list | tuple) or not self.taus:
            raise ConfigError(
                f"taus must be a non-empty list of levels in (0, 1), got {self.taus!r}"
            )
        taus = [
            check_real("taus", t, low=0.0, high=1.0, low_open=True, high_open=True)
            for t in self.taus
        ]
        object.__setattr__(self, "taus", tuple(taus))

    @property
    def hidden(self) -> str:
        """The regularizers' selector of the hidden weight matrices (all but the last)."""
        return r"^\[(" + "|".join(map(str, range(len(self.sizes) - 2))) + r")\]\['w'\]"


def truncation(params: Any, s: LowRankSettings, base_val: float, d) -> dict[str, float]:
    """The largest τ in ``s.taus`` whose truncation of the hidden matrices keeps the validation
    accuracy ≥ ``base_val`` − tolerance, with its accuracies, compression and kept ranks (τ = 0:
    none did; the model untruncated)."""
    hidden = L1(select=s.hidden).selected(params)
    shapes = [tuple(w.shape) for _, w in hidden]
    full = sum(m * n for m, n in shapes)
    best = {
        "tau": 0.0,
        "trunc_val_acc": base_val,
        "params": params,
        "ranks": [min(sh) for sh in shapes],
    }
    for tau in s.taus:
        truncated, ranks = truncate_rank(params, tol=tau, select=s.hidden)
        acc = accuracy(apply_mlp, truncated, d.x_val, d.y_val)
        if acc >= base_val - s.tolerance:
            best = {
                "tau": tau,
                "trunc_val_acc": acc,
                "params": truncated,
                "ranks": list(ranks.values()),
            }
    kept = sum(min(r * (m + n), m * n) for r, (m, n) in zip(best["ranks"], shapes, strict=True))
    out = {
        "tau": best["tau"],
        "trunc_val_acc": best["trunc_val_acc"],
        "trunc_test_acc": accuracy(apply_mlp, best["params"], d.x_test, d.y_test),
        "compression": full / kept,
    }
    out.update({f"trunc_rank_{i}": float(r) for i, r in enumerate(best["ranks"], 1)})
    return out


def run(config: dict[str, Any]) -> dict[str, Any]:
    """One trial: accuracies; per hidden layer the effective rank exp(H(σ/Σσ)) ``erank_j`` and
    ``rank_j`` = #{σ_i > 10⁻²σ_1}; ``erank`` = Σ_j erank_j; the truncation's τ, accuracies,
    kept ranks and ``compression``."""
    s = LowRankSettings(**{k: v for k, v in config["model"].items() if k != "kind"})
    seed = config["seed"]
    d = digits_split(s.data_seed)
    reg = None if s.penalty == "none" else regularizer(s.penalty, lam=s.lam, select=s.hidden)
    params, losses = train(
        apply_mlp,
        init_mlp(s.sizes, seed),
        d.x_train,
        d.y_train,
        reg=reg,
        optimizer=s.optimizer,
        lr=s.learning_rate,
        epochs=s.epochs,
        batch_size=s.batch_size,
        seed=seed,
    )
    layers = layer_report(params, select=s.hidden)[:-1]
    val = accuracy(apply_mlp, params, d.x_val, d.y_val)
    metrics = {
        "val_acc": val,
        "test_acc": accuracy(apply_mlp, params, d.x_test, d.y_test),
        "erank": float(sum(r["effective_rank"] for r in layers)),
        "train_loss": float(losses[-1]),
    }
    for i, r in enumerate(layers, 1):
        metrics[f"erank_{i}"] = float(r["effective_rank"])
        metrics[f"rank_{i}"] = float(r["rank"])
    metrics.update(truncation(params, s, val, d))
    status = "max_steps" if np.isfinite(losses[-1]) else "diverged"
    return {"metrics": metrics, "status": status, "steps": s.epochs}


def label(settings: dict[str, Any], with_lam: bool) -> str:
    """ "adam ratio", "gd none", …; with λ when asked."""
    family = f"{settings['optimizer']} {settings['penalty']}"
    return f"{family} λ={settings['lam']:g}" if with_lam else family


__all__ = ["PENALTIES", "TAUS", "LowRankSettings", "label", "run", "truncation"]
