"""Train (optionally dense first) → regularize → prune → masked fine-tune → report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..regularizers import Regularizer, Selector
from .data import Split
from .prune import prune
from .report import layer_report
from .train import accuracy, train


def sparsify(
    apply: Callable,
    params: Any,
    data: Split,
    *,
    reg: Regularizer | None,
    dense_epochs: int = 0,
    reg_epochs: int = 30,
    finetune_epochs: int = 10,
    sensitivity: float | None = None,
    threshold: float | None = None,
    select: Selector = "weights",
    optimizer: str = "adam",
    lr: float = 1e-3,
    finetune_lr: float | None = None,
    batch_size: int = 64,
    seed: int = 0,
    rank_tol: float = 1e-2,
) -> dict[str, Any]:
    """The DeepHoyer-style pipeline on one model.

    1. ``dense_epochs`` > 0: train without the regularizer first (dense start);
    2. ``reg_epochs`` with data loss + reg(params) (skipped when ``reg`` is None);
    3. prune the ``select``-ed tensors at τ = sensitivity·std(w) per tensor or a fixed
       ``threshold`` (no pruning when both are None);
    4. ``finetune_epochs`` without the regularizer, the pruned entries held at 0 by the mask.

    Returns params, mask, validation/test accuracy after each stage, and the per-layer report
    (:func:`~algoreg.networks.report.layer_report`) of the final model.
    """
    out: dict[str, Any] = {}
    x, y = data.x_train, data.y_train
    kw: dict[str, Any] = {"optimizer": optimizer, "batch_size": batch_size}
    if dense_epochs:
        params, _ = train(apply, params, x, y, lr=lr, epochs=dense_epochs, seed=seed, **kw)
        out["dense_val_acc"] = accuracy(apply, params, data.x_val, data.y_val)
    if reg is not None and reg_epochs:
        params, _ = train(
            apply, params, x, y, reg=reg, lr=lr, epochs=reg_epochs, seed=seed + 1, **kw
        )
    out["reg_val_acc"] = accuracy(apply, params, data.x_val, data.y_val)
    mask = None
    if sensitivity is not None or threshold is not None:
        params, mask = prune(params, select=select, sensitivity=sensitivity, threshold=threshold)
        out["pruned_val_acc"] = accuracy(apply, params, data.x_val, data.y_val)
    if finetune_epochs:
        params, _ = train(
            apply,
            params,
            x,
            y,
            lr=finetune_lr or lr,
            epochs=finetune_epochs,
            seed=seed + 2,
            mask=mask,
            **kw,
        )
    out["val_acc"] = accuracy(apply, params, data.x_val, data.y_val)
    out["test_acc"] = accuracy(apply, params, data.x_test, data.y_test)
    out["report"] = layer_report(params, select=select, rank_tol=rank_tol)
    out["params"], out["mask"] = params, mask
    return out
