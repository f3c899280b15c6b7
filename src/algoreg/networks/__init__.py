"""Small JAX networks on offline data, a sparsify/low-rank pipeline, and the study protocols.

* :mod:`.data` — ``digits()`` (scikit-learn's bundled 8×8 digits, seeded stratified split);
* :mod:`.models` — MLP, deep linear network and a tiny CNN as plain pytrees;
* :mod:`.train` — optax minibatch training with a regularizer and a pruning mask;
* :mod:`.prune` — magnitude pruning (sensitivity·std or fixed) and SVD rank truncation;
* :mod:`.report` — per-layer nnz / rank / effective rank / compression;
* :mod:`.sparsity`, :mod:`.lowrank`, :mod:`.endtoend` — one trial of each network protocol
  (settings dataclass, ``run(config) -> {"metrics": …}``, ``label``): the study trial kinds
  ``mlp_prune``, ``mlp_lowrank`` and ``deep_linear`` (:mod:`algoreg.studies.kinds`) of the
  presets deephoyer-digits, lowrank-digits and linear-endtoend;
* :mod:`.settings` — their shared validation and the per-process digits split.
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
from .train import accuracy, ones_mask, predict, train

__all__ = [
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
