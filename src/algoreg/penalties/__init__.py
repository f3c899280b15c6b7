"""Explicit regularizers: spectral penalties on the end-to-end matrix."""

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
    "frobenius",
    "get",
    "nuclear",
    "polar",
    "ratio",
    "schatten",
    "singular_values",
]
