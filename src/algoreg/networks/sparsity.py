"""DeepHoyer-style sparsification of an MLP on digits, one (penalty, λ, prune level, seed) per
trial: the study kind ``mlp_prune`` (preset ``deephoyer-digits``).

Protocol (Yang, Wen & Li 2020): dense Adam training → training with λ·R(W) on every weight
matrix, R ∈ {L1 Σ|w|, Hoyer ‖w‖₁/‖w‖₂, Hoyer-square ‖w‖₁²/‖w‖₂²} → prune each matrix at
τ = s·std(w) → masked fine-tune without R. ``penalty = "none"`` skips the regularized stage
(magnitude pruning of the dense model), ``sensitivity = 0`` the pruning and the fine-tune.

The dense model of a seed and the regularized model of a (penalty, λ, seed) are shared by
every prune level: each is computed once per process and kept (≈ 0.2 MB each, at most 72);
a process that starts cold recomputes it bit for bit (one compiled program, fixed seeds), so
a resumed study gets the same numbers. Seeds: replicate s initializes with ``s`` and draws its
minibatches with s, 1000 + s and 2000 + s in the three stages; the data split is fixed by
``data_seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..regularizers import REGULARIZERS
from ..regularizers import get as regularizer
from .models import apply_mlp, init_mlp
from .prune import prune
from .report import layer_report
from .settings import check_penalty, digits_split, set_int, set_real, set_sizes
from .train import accuracy, train

PENALTIES = ("l1", "hoyer", "hoyer_square")


@dataclass(frozen=True)
class PruneSettings:
    """The ``[model]`` settings of an ``mlp_prune`` trial."""

    sizes: tuple[int, ...] = (64, 256, 128, 10)
    penalty: str = "none"
    lam: float = 0.0
    sensitivity: float = 0.0
    dense_epochs: int = 40
    reg_epochs: int = 40
    finetune_epochs: int = 20
    learning_rate: float = 1e-3
    batch_size: int = 64
    data_seed: int = 0

    def __post_init__(self) -> None:
        set_sizes(self)
        check_penalty("penalty", self.penalty, tuple(p for p in PENALTIES if p in REGULARIZERS))
        set_real(self, "lam", low=0.0)
        set_real(self, "sensitivity", low=0.0)
        for name in ("dense_epochs", "reg_epochs", "finetune_epochs"):
            set_int(self, name, low=1)
        set_real(self, "learning_rate", low=0.0, low_open=True)
        set_int(self, "batch_size", low=1)
        set_int(self, "data_seed", low=0)


@lru_cache(maxsize=8)
def dense(s: PruneSettings, seed: int) -> Any:
    """The dense model of replicate ``seed`` (depends on the data, sizes and dense stage)."""
    d = digits_split(s.data_seed)
    params, _ = train(
        apply_mlp,
        init_mlp(s.sizes, seed),
        d.x_train,
        d.y_train,
        lr=s.learning_rate,
        epochs=s.dense_epochs,
        batch_size=s.batch_size,
        seed=seed,
    )
    return params


@lru_cache(maxsize=64)
def regularized(s: PruneSettings, seed: int) -> Any:
    """The dense model trained ``reg_epochs`` more with λ·R (shared by every prune level)."""
    d = digits_split(s.data_seed)
    params, _ = train(
        apply_mlp,
        dense(_dense_part(s), seed),
        d.x_train,
        d.y_train,
        reg=regularizer(s.penalty, lam=s.lam),
        lr=s.learning_rate,
        epochs=s.reg_epochs,
        batch_size=s.batch_size,
        seed=1000 + seed,
    )
    return params


def _dense_part(s: PruneSettings) -> PruneSettings:
    """``s`` with the settings the dense stage ignores at their defaults (its cache key)."""
    return PruneSettings(
        sizes=s.sizes,
        dense_epochs=s.dense_epochs,
        learning_rate=s.learning_rate,
        batch_size=s.batch_size,
        data_seed=s.data_seed,
    )


def _regularized_part(s: PruneSettings) -> PruneSettings:
    """``s`` without its prune level and fine-tune (the regularized stage's cache key)."""
    return PruneSettings(
        sizes=s.sizes,
        penalty=s.penalty,
        lam=s.lam,
        dense_epochs=s.dense_epochs,
        reg_epochs=s.reg_epochs,
        learning_rate=s.learning_rate,
        batch_size=s.batch_size,
        data_seed=s.data_seed,
    )


def run(config: dict[str, Any]) -> dict[str, Any]:
    """One trial: validation and test accuracy of the final model, its non-zero weights
    (``nnz``, per layer ``nnz_1``…), ``compression`` = size / nnz."""
    s = PruneSettings(**{k: v for k, v in config["model"].items() if k != "kind"})
    seed = config["seed"]
    d = digits_split(s.data_seed)
    if s.penalty == "none":
        params = dense(_dense_part(s), seed)
    else:
        params = regularized(_regularized_part(s), seed)
    if s.sensitivity > 0:
        params, mask = prune(params, sensitivity=s.sensitivity)
        params, _ = train(
            apply_mlp,
            params,
            d.x_train,
            d.y_train,
            lr=s.learning_rate,
            epochs=s.finetune_epochs,
            batch_size=s.batch_size,
            seed=2000 + seed,
            mask=mask,
        )
    report = layer_report(params)
    metrics = {
        "val_acc": accuracy(apply_mlp, params, d.x_val, d.y_val),
        "test_acc": accuracy(apply_mlp, params, d.x_test, d.y_test),
        "nnz": float(report[-1]["nnz"]),
        "compression": float(report[-1]["compression"]),
    }
    metrics.update({f"nnz_{i}": float(r["nnz"]) for i, r in enumerate(report[:-1], 1)})
    return {"metrics": metrics}


def label(settings: dict[str, Any], with_lam: bool) -> str:
    """ "dense" (pruned: "magnitude pruning"), else the penalty; with λ and s when asked."""
    family = settings["penalty"]
    if family == "none":
        family = "magnitude pruning" if settings["sensitivity"] > 0 else "dense"
        return f"{family} s={settings['sensitivity']:g}" if with_lam else family
    return f"{family} λ={settings['lam']:g} s={settings['sensitivity']:g}" if with_lam else family


__all__ = ["PENALTIES", "PruneSettings", "dense", "label", "regularized", "run"]
