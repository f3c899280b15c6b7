"""Error and warning classes, and the small validators that raise them.

Every invalid parameter raises :class:`ConfigError` (a ``ValueError``) whose message names the
parameter, the value received and what is allowed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

# integer limits of the compiled engine: step counters are int32, PRNG seeds uint32
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1


class ConfigError(ValueError):
    """An invalid parameter value or an unknown name."""


class ConvergenceWarning(UserWarning):
    """An iterative method stopped at its iteration limit before reaching its tolerance."""


class MemoryWarning(UserWarning):
    """Work is estimated to need more memory than the machine has free."""


class SlowWarning(UserWarning):
    """Work is estimated to take long (the message states the estimate)."""


def did_you_mean(name: str, allowed: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the closest of ``allowed`` to ``name``, or "" if none is."""
    close = difflib.get_close_matches(name, list(allowed), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_name(what: str, name: object, known: Iterable[str]) -> ConfigError:
    """Build the error for an unknown registry name, with a did-you-mean suggestion."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown {what} {name!r}; known: {', '.join(known)}.{hint}")


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, checking it is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ConfigError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if low is not None and value < low:
        raise ConfigError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be <= {high}, got {value}")
    return value


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the given (open or closed) interval."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ConfigError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ConfigError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Check ``value`` is a boolean (Python's, or a NumPy boolean scalar)."""
    if not (isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"):
        raise ConfigError(f"{name} must be True or False (true/false in TOML), got {value!r}")
    return bool(value)


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Check ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{name} must be one of {allowed}, got {value!r}.{hint}")
    return value


def check_shape(name: str, value: Any) -> tuple[int, int]:
    """Check a matrix shape ``(m, n)`` of positive integers."""
    try:
        m, n = value
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be a pair (m, n) of positive integers, got {value!r}"
        ) from None
    return (check_int(f"{name}[0]", m, low=1), check_int(f"{name}[1]", n, low=1))
