"""The model protocol, and the registry of trainable model kinds.

A model kind is a frozen dataclass whose fields are its validated settings (checked in
``__post_init__``), with a class-level ``kind`` name. The engine, the study resolver, the runner,
the grid's batching and cost estimate, the report's labels and the benchmark know a model only
through this protocol, so **adding a kind is one module and one :func:`register` call**:

- ``init_params(key, shape, dtype)``: the initial parameters (any pytree of arrays) for an
  m × n problem, a pure function of the JAX ``key``;
- ``product(params)``: the m × n end-to-end matrix the problem's loss reads;
- ``diagnostics(params)``: a dict of the extra scalars it can log (balancedness for a chain of
  matrices, …), jit- and vmap-able;
- ``param_count(shape)`` and ``step_flops(shape)``: parameters and matmul FLOPs of one training
  step (forward + backward) for the grid's memory and cost estimates;
- ``label(optimizer)``: the method's name in tables, given the optimizer's name.

A model whose start depends on the problem (a spectral initialization) sets the class
attribute ``uses_data = True`` and takes ``init_params(key, shape, dtype, data=…)``, the
problem's ``data()`` arrays. Optional methods, used where a model defines them:
``gradient_diagnostics(params, R)``, scalars that need R = ∇ℓ(W) of the data loss (logged
with the diagnostics), and
``history_metrics(history, optimizer)``, scalars read off a finished trial's logged history
(e.g. how far a conserved quantity drifted), and ``check_problem(problem)``, which raises a
``ConfigError`` for a problem the model refuses up front (too large, say). Problems have
``history_metrics`` too. Two optional methods let the engine train without ever forming the
m × n product: ``factors(params)`` = (L, R) with ``product(params) == L @ R.T`` (a problem
with sparse observations then evaluates W only at its entries, by row-wise dot products of
gathered rows), and ``spectrum(params)``, the singular values of the part a spectral penalty
sees, from which every penalty is taken exactly (``Penalty.raw_spectrum``).

Models not trained by the engine (the convex baselines) are not registered here: they are
solved by :mod:`algoreg.baselines` (``solve(problem, kind, …)``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Protocol, runtime_checkable

import jax

from ..errors import ConfigError, unknown_name

Params = Any  # a pytree of arrays


@runtime_checkable
class Model(Protocol):
    """What the engine and the studies may assume of a trainable model (see the module)."""

    kind: ClassVar[str]

    def init_params(self, key: jax.Array, shape: tuple[int, int], dtype: Any) -> Params: ...

    def product(self, params: Params) -> jax.Array: ...

    def diagnostics(self, params: Params) -> dict[str, jax.Array]: ...

    def param_count(self, shape: tuple[int, int]) -> int: ...

    def step_flops(self, shape: tuple[int, int]) -> float: ...

    def label(self, optimizer: str) -> str: ...


METHODS = ("init_params", "product", "diagnostics", "param_count", "step_flops", "label")
MODELS: dict[str, type] = {}


def register(cls: type) -> type:
    """Add a model class to :data:`MODELS` under its ``kind`` (usable as a decorator). It must
    be a dataclass (its fields are the settings a study file may give) implementing
    :class:`Model`; a kind that is taken by another class is an error."""
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise ConfigError(f"{cls.__name__} needs a class attribute kind = 'name'")
    if not dataclasses.is_dataclass(cls):
        raise ConfigError(f"model {kind!r}: {cls.__name__} must be a dataclass")
    missing = [m for m in METHODS if not callable(getattr(cls, m, None))]
    if missing:
        raise ConfigError(f"model {kind!r}: {cls.__name__} lacks {', '.join(sorted(missing))}")
    if MODELS.get(kind, cls) is not cls:
        raise ConfigError(f"model kind {kind!r} is already registered by {MODELS[kind].__name__}")
    MODELS[kind] = cls
    return cls


def settings(kind: str) -> list[str]:
    """The settings (dataclass fields) of model ``kind``."""
    return [f.name for f in dataclasses.fields(MODELS[kind])]


def get(kind: str, **params: Any) -> Model:
    """The model ``kind`` with these settings; an unknown kind or setting is a
    :class:`ConfigError` naming what exists."""
    if kind not in MODELS:
        raise unknown_name("model", kind, MODELS)
    unknown = sorted(set(params) - set(settings(kind)))
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {unknown} for model {kind!r}; allowed: {settings(kind)}"
        )
    return MODELS[kind](**params)
