"""Small JAX networks on offline data, a sparsify/low-rank pipeline, and experiment presets.

* :mod:`.data` — ``digits()`` (scikit-learn's bundled 8×8 digits, seeded stratified split);
* :mod:`.models` — MLP, deep linear network and a tiny CNN as plain pytrees;
* :mod:`.train` — optax minibatch training with a regularizer and a pruning mask;
* :mod:`.prune` — magnitude pruning (sensitivity·std or fixed) and SVD rank truncation;
* :mod:`.report` — per-layer nnz / rank / effective rank / compression;
* :mod:`.experiments` — presets ``EXPERIMENTS`` (deephoyer-digits, lowrank-digits,
  linear-endtoend), each ``run(out, quick=False, seeds=None) -> dict``.
"""

from .data import Split, digits
from .models import (
    apply_convnet,
    apply_linear,
    apply_mlp,
    init_convnet,
    init_linear,
    init_mlp,
)
from .pipeline import sparsify
from .prune import prune, truncate_rank
from .report import layer_report, markdown_table, matrix_stats
from .train import OPTIMIZERS, accuracy, ones_mask, predict, train

__all__ = [
    "OPTIMIZERS",
    "Split",
    "accuracy",
    "apply_convnet",
    "apply_linear",
    "apply_mlp",
    "digits",
    "init_convnet",
    "init_linear",
    "init_mlp",
    "layer_report",
    "markdown_table",
    "matrix_stats",
    "ones_mask",
    "predict",
    "prune",
    "sparsify",
    "train",
    "truncate_rank",
]
