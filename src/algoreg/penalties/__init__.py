"""Explicit regularizers: spectral penalties on the end-to-end matrix."""

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
    "ratio",
    "schatten",
    "singular_values",
]
