"""Recovery problems: synthetic completion and sensing, ratings data (MovieLens), a fully
observed matrix (its best low-rank approximations), and PSD sensing for lifting."""

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
from .truth import low_rank

# problem settings besides kind and shape that decide whether trials share one batch
# (:meth:`Problem.signature`), for the grid's batching before any data is drawn
BATCH_FIELDS = {"psd_sensing": ("m",), "matrix": ("rank", "max_rank"), "ratings": ("center",)}

# kind -> (generator, parameter checker); the checker validates without generating data
PROBLEMS = {
    "completion": (completion, check_completion),
    "sensing": (sensing, check_sensing),
    "entries": (entries, check_entries),
    "ratings": (ratings, check_ratings),
    "matrix": (matrix, check_matrix),
    "psd_sensing": (psd_sensing, check_psd_sensing),
}

__all__ = [
    "BATCH_FIELDS",
    "PROBLEMS",
    "BiasModel",
    "CompletionProblem",
    "MatrixProblem",
    "Problem",
    "PsdSensingProblem",
    "Ratings",
    "RatingsProblem",
    "SensingProblem",
    "bias_baseline",
    "check_completion",
    "check_entries",
    "check_matrix",
    "check_psd_sensing",
    "check_ratings",
    "check_sensing",
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
