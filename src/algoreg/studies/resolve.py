"""Resolve one grid point into a canonical, validated trial config (no data generated).

The canonical config fills every default, so a trial's identity does not depend on whether a
default was written out. Sections a method does not use are dropped (a convex baseline has
no optimizer), so they do not split its identity either.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

from ..errors import INT32_MAX, ConfigError, did_you_mean
from .config import SECTIONS, StudyError, _error

TRAIN_DEFAULTS = {
    "max_steps": 10_000,
    "tol": 0.0,
    "log_every": 1000,
    "dtype": "float32",
    "diverge_above": 1e10,
    "log_flow": False,
    "reference": "none",
}
DEFAULT_KINDS = {
    "problem": "completion",
    "model": "factorization",
    "penalty": "none",
    "optimizer": "adam",
}


def _problem(params: dict[str, Any]) -> dict[str, Any]:
    from ..problems import PROBLEMS

    kind = params.pop("kind")
    if kind not in PROBLEMS:
        raise _Unknown("kind", kind, PROBLEMS)
    checker = PROBLEMS[kind][1]
    allowed = [p for p in inspect.signature(checker).parameters if p != "seed"]
    _check_keys(params, allowed)
    required = [
        p
        for p, v in inspect.signature(checker).parameters.items()
        if v.default is inspect.Parameter.empty
    ]
    missing = [p for p in required if p not in params]
    if missing:
        raise _Keyed(missing[0], f"[problem] of kind {kind!r} needs {', '.join(missing)}")
    out = checker(**params)
    out.pop("seed")
    out["shape"] = list(out["shape"])
    return {"kind": kind, **out}


def _model(params: dict[str, Any]) -> dict[str, Any]:
    from ..models import MODELS, get, settings
    from .kinds import KINDS

    kind = params.pop("kind")
    if kind in MODELS:  # trained by the engine: its dataclass validates and fills defaults
        _check_keys(params, settings(kind))
        model: Any = get(kind, **params)  # every registered kind is a dataclass (base.register)
        return {"kind": kind, **dataclasses.asdict(model)}
    if kind in KINDS:  # a trial kind of its own (a baseline, a network protocol, ...)
        _check_keys(params, list(KINDS[kind].settings))
        return {"kind": kind, **KINDS[kind].check(params)}
    raise _Unknown("kind", kind, [*MODELS, *KINDS])


def _baselines() -> dict[str, Any]:
    from ..baselines import BASELINES

    return BASELINES


def _penalty(params: dict[str, Any]) -> dict[str, Any]:
    from ..penalties import PENALTIES, get

    kind = params.pop("kind")
    if kind == "none":
        _check_keys({k: v for k, v in params.items() if k != "lam"}, ["lam"])
        return {"kind": "none"}
    if kind not in PENALTIES:
        raise _Unknown("kind", kind, ["none", *PENALTIES])
    allowed = [f.name for f in dataclasses.fields(PENALTIES[kind])]
    _check_keys(params, allowed)
    return {"kind": kind, **dataclasses.asdict(get(kind, **params))}


def _optimizer(params: dict[str, Any]) -> dict[str, Any]:
    from ..optim import OPTIMIZERS, get

    kind = params.pop("kind")
    if kind not in OPTIMIZERS:
        raise _Unknown("kind", kind, OPTIMIZERS)
    opt = get(kind, **params)
    return {"kind": kind, **opt.params, **dict(opt.static)}


def _train(params: dict[str, Any]) -> dict[str, Any]:
    from ..errors import check_bool, check_choice, check_int, check_real

    _check_keys(params, list(TRAIN_DEFAULTS))
    t = {**TRAIN_DEFAULTS, **params}
    return {
        "max_steps": check_int("max_steps", t["max_steps"], low=1, high=INT32_MAX),
        "tol": check_real("tol", t["tol"], low=0.0),
        "log_every": check_int("log_every", t["log_every"], low=1),
        "dtype": check_choice("dtype", t["dtype"], ("float32", "float64")),
        "diverge_above": check_real("diverge_above", t["diverge_above"], low=0.0, low_open=True),
        "log_flow": check_bool("log_flow", t["log_flow"]),
        "reference": check_choice("reference", t["reference"], ("none", *_baselines())),
    }


RESOLVERS = {
    "problem": _problem,
    "model": _model,
    "penalty": _penalty,
    "optimizer": _optimizer,
    "train": _train,
}


class _Keyed(ConfigError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class _Unknown(_Keyed):
    def __init__(self, key: str, value: Any, allowed) -> None:
        allowed = sorted(allowed)
        super().__init__(
            key,
            f"unknown value {value!r}; allowed: {', '.join(allowed)}"
            + did_you_mean(str(value), allowed),
        )


def _check_keys(params: dict[str, Any], allowed: list[str]) -> None:
    for key in params:
        if key not in allowed:
            raise _Keyed(
                key,
                f"unknown key; allowed: {', '.join(['kind', *allowed])}"
                + did_you_mean(key, allowed),
            )


def is_trained(config: dict[str, Any]) -> bool:
    """Whether the trial trains a registered model with the engine (else: a trial kind of
    :mod:`.kinds` runs it, e.g. a convex baseline)."""
    return _trained(config["model"].get("kind", DEFAULT_KINDS["model"]))


def _trained(kind: str) -> bool:
    from ..models import MODELS

    return kind in MODELS


def _sections(kind: str) -> tuple[str, ...]:
    """The sections a trial of model ``kind`` reads: all of them when the engine trains it,
    else ``model`` and the kind's own ``sections`` (an unknown kind: ``model``, to be named)."""
    if _trained(kind):
        return SECTIONS
    from .kinds import KINDS

    read = ("model", *(KINDS[kind].sections if kind in KINDS else ()))
    return tuple(s for s in SECTIONS if s in read)


def _own_problem(kind: str):
    """The ``[problem]`` check of a trial kind that reads its own data, else None."""
    if _trained(kind):
        return None
    from .kinds import KINDS

    return KINDS[kind].problem if kind in KINDS else None


def resolve_config(point: dict[str, Any], *, source: str = "<dict>", text: str = "") -> dict:
    """Canonical config of one grid point ``{section: {...}, ..., "seed": s}``."""
    out: dict[str, Any] = {}
    kind = point.get("model", {}).get("kind", DEFAULT_KINDS["model"])
    if not isinstance(kind, str):
        raise _error(source, text, "model.kind", f"must be a name (a string), got {kind!r}")
    own = _own_problem(kind)
    for section in _sections(kind):
        params = dict(point.get(section, {}))
        resolver = RESOLVERS[section]
        if section == "problem" and own is not None:
            resolver = own  # a kind that reads data of its own: no problem kind
        elif section in DEFAULT_KINDS:
            params.setdefault("kind", DEFAULT_KINDS[section])
        try:
            out[section] = resolver(params)
        except _Keyed as exc:
            raise _error(source, text, f"{section}.{exc.key}", str(exc)) from None
        except ConfigError as exc:
            key = _key_in_message(str(exc), point.get(section, {}))
            dotted = f"{section}.{key}" if key else section
            raise _error(source, text, dotted, str(exc)) from None
        except TypeError as exc:  # e.g. a list where a number belongs
            raise _error(source, text, section, f"invalid value: {exc}") from None
    out["seed"] = point["seed"]
    return out


def _key_in_message(message: str, params: dict[str, Any]) -> str | None:
    for key in sorted(params, key=len, reverse=True):
        if re.search(rf"\b{re.escape(key)}\b", message):
            return key
    return None


__all__ = ["TRAIN_DEFAULTS", "StudyError", "is_trained", "resolve_config"]
