"""algoreg: algorithmic (implicit) and explicit regularization in low-rank recovery.

>>> import algoreg as ar
>>> p = ar.problems.completion(shape=(100, 100), rank=5, n_obs=2000, seed=0)
>>> r = ar.fit(p, ar.models.factorization(depth=3, init_scale=1e-3),
...            optimizer=ar.optim.group_rmsprop(learning_rate=1e-3), max_steps=50_000, tol=1e-6)
>>> r.test_error, r.status, r.steps
"""

from . import metrics, models, optim, penalties, problems
from .engine import FitResult, fit, fit_many
from .errors import ConfigError, ConvergenceWarning

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConvergenceWarning",
    "FitResult",
    "__version__",
    "fit",
    "fit_many",
    "metrics",
    "models",
    "optim",
    "penalties",
    "problems",
]
