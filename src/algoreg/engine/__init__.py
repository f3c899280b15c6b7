"""The batched training engine."""

from .fit import fit, fit_many
from .result import STATUSES, FitResult

__all__ = ["STATUSES", "FitResult", "fit", "fit_many"]
