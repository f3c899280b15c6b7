"""Parameterizations mapping parameters to the end-to-end matrix."""

from .factorization import Factorization, balanced_factors, factorization

__all__ = ["Factorization", "balanced_factors", "factorization"]
