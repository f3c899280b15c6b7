"""Trainable models: parameterizations mapping parameters to the end-to-end matrix, behind
one protocol (:class:`Model`) and one registry (:data:`MODELS`, :func:`get`, :func:`register`)."""

from .asymmetric import Asymmetric, invariant_drift
from .base import MODELS, Model, Params, get, register, settings
from .factored import Factored
from .factorization import Factorization, balanced_factors, factorization
from .lifted import Lifted

__all__ = [
    "MODELS",
    "Asymmetric",
    "Factored",
    "Factorization",
    "Lifted",
    "Model",
    "Params",
    "balanced_factors",
    "factorization",
    "get",
    "invariant_drift",
    "register",
    "settings",
]
