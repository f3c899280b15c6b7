"""Validation shared by the network protocols' settings (frozen dataclasses, one per study
trial kind): fields are checked and normalized in place, so ``lam = 0`` and ``lam = 0.0`` are
one trial."""

from __future__ import annotations

from functools import cache
from typing import Any

from ..errors import ConfigError, check_int, check_real, unknown_name
from .data import Split, digits


def set_real(obj: Any, name: str, **bounds: Any) -> None:
    """Check field ``name`` of a frozen dataclass is a real number in ``bounds``; store it
    as a float."""
    object.__setattr__(obj, name, check_real(name, getattr(obj, name), **bounds))


def set_int(obj: Any, name: str, **bounds: Any) -> None:
    """Check field ``name`` is an integer in ``bounds``; store it as an int."""
    object.__setattr__(obj, name, check_int(name, getattr(obj, name), **bounds))


def set_sizes(obj: Any, name: str = "sizes") -> None:
    """Check field ``name`` lists ≥ 2 layer widths ≥ 1; store it as a tuple of ints."""
    sizes = getattr(obj, name)
    if not isinstance(sizes, list | tuple) or len(sizes) < 2:
        raise ConfigError(f"{name} must list at least 2 layer widths, got {sizes!r}")
    object.__setattr__(obj, name, tuple(check_int(name, s, low=1) for s in sizes))


def check_penalty(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    """Check a penalty name: ``"none"`` or one of ``allowed`` (regularizer names)."""
    if value != "none" and value not in allowed:
        raise unknown_name(name, value, ("none", *allowed))


@cache
def digits_split(seed: int) -> Split:
    """The digits split of ``seed``, loaded once per process."""
    return digits(seed=seed)


__all__ = ["check_penalty", "digits_split", "set_int", "set_real", "set_sizes"]
