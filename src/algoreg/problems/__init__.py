"""Recovery problems: synthetic completion and sensing (ratings data joins here)."""

from .base import Problem, relative_error
from .completion import CompletionProblem, completion, uniform_mask
from .sensing import SensingProblem, sensing
from .truth import low_rank

__all__ = [
    "CompletionProblem",
    "Problem",
    "SensingProblem",
    "completion",
    "low_rank",
    "relative_error",
    "sensing",
    "uniform_mask",
]
