"""Metrics: spectra, effective and numerical rank, balancedness (errors live on problems)."""

from .dynamics import early_stopping_metrics, flow_agreement
from .spectrum import (
    balancedness,
    effective_rank,
    effective_rank_of,
    numerical_rank,
    singular_values,
)

__all__ = [
    "balancedness",
    "early_stopping_metrics",
    "effective_rank",
    "effective_rank_of",
    "flow_agreement",
    "numerical_rank",
    "singular_values",
]
