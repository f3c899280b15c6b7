"""Recovery problems: synthetic completion and sensing, ratings data (MovieLens), a fully
observed matrix (its best low-rank approximations), and PSD sensing for lifting."""

from collections.abc import Callable
from typing import Any

from .base import Problem, relative_error
from .bias import BiasModel, bias_baseline, global_mean
from .completion import (
    CompletionProblem,
    check_completion,
    check_entries,
    completion,
    entries,
    uniform_mask,
)
from .matrix import MatrixProblem, check_matrix, load_matrix, make_spectrum, matrix
from .psd_sensing import PsdSensingProblem, check_psd_sensing, psd_sensing
from .ratings import Ratings, RatingsProblem
from .ratings_study import check_ratings, ratings
from .sensing import SensingProblem, check_sensing, sensing
from .sparse import (
    DENSE_MAX_ENTRIES,
    SparseCompletionProblem,
    SparseRatingsProblem,
    check_sparse_completion,
    sparse_completion,
)
from .truth import low_rank

# problem settings besides kind and shape that decide whether trials share one batch
# (:meth:`Problem.signature`), for the grid's batching before any data is drawn
BATCH_FIELDS = {
    "psd_sensing": ("m",),
    "matrix": ("rank", "max_rank"),
    "sparse_completion": ("n_obs", "validation", "n_test", "rank"),
    "ratings": ("center",),
}


def batch_fields(problem: dict) -> tuple[str, ...]:
    """The settings of a resolved ``[problem]`` besides kind and shape that decide its batch;
    a completion problem large enough to be stored sparsely (DENSE_MAX_ENTRIES) batches like
    ``sparse_completion`` (its data's length is its number of entries)."""
    kind = problem["kind"]
    m, n = problem.get("shape") or (0, 0)
    if kind == "completion" and m * n > DENSE_MAX_ENTRIES:
        kind = "sparse_completion"
    return BATCH_FIELDS.get(kind, ())


# kind -> (generator, parameter checker); the checker validates without generating data
PROBLEMS: dict[str, tuple[Callable[..., Problem], Callable[..., dict[str, Any]]]] = {
    "completion": (completion, check_completion),
    "sparse_completion": (sparse_completion, check_sparse_completion),
    "sensing": (sensing, check_sensing),
    "entries": (entries, check_entries),
    "ratings": (ratings, check_ratings),
    "matrix": (matrix, check_matrix),
    "psd_sensing": (psd_sensing, check_psd_sensing),
}

__all__ = [
    "BATCH_FIELDS",
    "DENSE_MAX_ENTRIES",
    "PROBLEMS",
    "BiasModel",
    "CompletionProblem",
    "MatrixProblem",
    "Problem",
    "PsdSensingProblem",
    "Ratings",
    "RatingsProblem",
    "SensingProblem",
    "SparseCompletionProblem",
    "SparseRatingsProblem",
    "bias_baseline",
    "check_completion",
    "check_entries",
    "check_matrix",
    "check_psd_sensing",
    "check_ratings",
    "check_sensing",
    "check_sparse_completion",
    "completion",
    "entries",
    "global_mean",
    "load_matrix",
    "low_rank",
    "make_spectrum",
    "matrix",
    "psd_sensing",
    "ratings",
    "relative_error",
    "sensing",
    "uniform_mask",
]
