"""Optimizers (optax-based) including GroupRMSprop and the Adam ablations; any optax
transformation is accepted too (:func:`custom`)."""

from .optimizers import (
    OPTIMIZERS,
    Optimizer,
    adam,
    adam_denominator,
    adam_numerator,
    as_optimizer,
    custom,
    gd,
    gd_decay,
    get,
    group_rmsprop,
    momentum,
    rmsprop,
    scale_by_group_rms,
)

__all__ = [
    "OPTIMIZERS",
    "Optimizer",
    "adam",
    "adam_denominator",
    "adam_numerator",
    "as_optimizer",
    "custom",
    "gd",
    "gd_decay",
    "get",
    "group_rmsprop",
    "momentum",
    "rmsprop",
    "scale_by_group_rms",
]
