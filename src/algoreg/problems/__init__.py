"""Recovery problems: synthetic completion and sensing (ratings data joins here)."""

from .base import Problem, relative_error
from .completion import CompletionProblem, check_completion, completion, uniform_mask
from .sensing import SensingProblem, check_sensing, sensing
from .truth import low_rank

# kind -> (generator, parameter checker); the checker validates without generating data
PROBLEMS = {"completion": (completion, check_completion), "sensing": (sensing, check_sensing)}

__all__ = [
    "PROBLEMS",
    "CompletionProblem",
    "Problem",
    "SensingProblem",
    "check_completion",
    "check_sensing",
    "completion",
    "low_rank",
    "relative_error",
    "sensing",
    "uniform_mask",
]
