"""scikit-learn-style completers (imputers) for a matrix with NaN for missing entries.

>>> import numpy as np
>>> from algoreg.estimators import SoftImputeCompleter
>>> rng = np.random.default_rng(0)
>>> M = rng.normal(size=(20, 2)) @ rng.normal(size=(2, 20))  # rank 2
>>> X = np.where(rng.random(M.shape) < 0.3, np.nan, M)       # 30% missing
>>> Z = SoftImputeCompleter().fit_transform(X)
>>> bool(np.linalg.norm(Z - M) / np.linalg.norm(M) < 0.01)
True

This subpackage imports scikit-learn (an optional extra, ``pip install algoreg[sklearn]``);
``import algoreg`` does not import it. :func:`expected_failed_checks` lists the scikit-learn
estimator checks that cannot apply to a completer, with the reason.
"""

from .base import BaseCompleter, MissingDataWarning, NonNumericInputError
from .checks import expected_failed_checks
from .completers import (
    DeepFactorizationCompleter,
    NuclearNormCompleter,
    RatioPenaltyCompleter,
    SoftImputeCompleter,
)

__all__ = [
    "BaseCompleter",
    "DeepFactorizationCompleter",
    "MissingDataWarning",
    "NonNumericInputError",
    "NuclearNormCompleter",
    "RatioPenaltyCompleter",
    "SoftImputeCompleter",
    "expected_failed_checks",
]
