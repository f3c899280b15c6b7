"""algoreg: algorithmic (implicit) and explicit regularization in low-rank recovery.

>>> import algoreg as ar
>>> p = ar.problems.completion(shape=(30, 30), rank=2, n_obs=400, seed=0)
>>> r = ar.fit(p, ar.models.factorization(depth=3, init_scale=1e-3),
...            optimizer=ar.optim.adam(learning_rate=1e-2), max_steps=3000)
>>> r.status, r.steps, bool(r.test_error < 0.05)  # depth 3 completes the rank-2 matrix
('max_steps', 3000, True)

Submodules load on first use, so ``import algoreg`` (and the command line) start without
JAX, and worker processes can pin their BLAS/XLA threads before the numerical stack loads.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ConfigError, ConvergenceWarning

__version__ = "0.1.0"

_SUBMODULES = (
    "baselines",
    "clustering",
    "datasets",
    "engine",
    "estimators",
    "metrics",
    "models",
    "networks",
    "optim",
    "penalties",
    "problems",
    "regularizers",
    "report",
    "studies",
)
_FROM_ENGINE = ("FitResult", "fit", "fit_many")

__all__ = [
    "ConfigError",
    "ConvergenceWarning",
    "__version__",
    *_FROM_ENGINE,
    *_SUBMODULES,
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _FROM_ENGINE:
        return getattr(importlib.import_module(".engine", __name__), name)
    raise AttributeError(f"module 'algoreg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
