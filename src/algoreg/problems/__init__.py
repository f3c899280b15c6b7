"""Recovery problems: synthetic completion and sensing, and ratings data (MovieLens)."""

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
from .ratings import Ratings, RatingsProblem
from .ratings_study import check_ratings, ratings
from .sensing import SensingProblem, check_sensing, sensing
from .truth import low_rank

# kind -> (generator, parameter checker); the checker validates without generating data
PROBLEMS = {
    "completion": (completion, check_completion),
    "sensing": (sensing, check_sensing),
    "entries": (entries, check_entries),
    "ratings": (ratings, check_ratings),
}

__all__ = [
    "PROBLEMS",
    "BiasModel",
    "CompletionProblem",
    "Problem",
    "Ratings",
    "RatingsProblem",
    "SensingProblem",
    "bias_baseline",
    "check_completion",
    "check_entries",
    "check_ratings",
    "check_sensing",
    "completion",
    "entries",
    "global_mean",
    "low_rank",
    "ratings",
    "relative_error",
    "sensing",
    "uniform_mask",
]
