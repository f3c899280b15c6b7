"""Explicit regularizers: spectral penalties on the end-to-end matrix."""

from .factored import factored_distance_sq, factored_frobenius_sq, factored_singular_values
from .polar import POLAR_METHODS, polar
from .spectral import (
    PENALTIES,
    EffectiveRank,
    Frobenius,
    Nuclear,
    Penalty,
    Ratio,
    Schatten,
    SpectralPenalty,
    effective_rank,
    frobenius,
    get,
    nuclear,
    ratio,
    schatten,
)
from .svd import singular_values

__all__ = [
    "PENALTIES",
    "POLAR_METHODS",
    "EffectiveRank",
    "Frobenius",
    "Nuclear",
    "Penalty",
    "Ratio",
    "Schatten",
    "SpectralPenalty",
    "effective_rank",
    "factored_distance_sq",
    "factored_frobenius_sq",
    "factored_singular_values",
    "frobenius",
    "get",
    "nuclear",
    "polar",
    "ratio",
    "schatten",
    "singular_values",
]
