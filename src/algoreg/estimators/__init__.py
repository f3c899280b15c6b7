"""scikit-learn-style completers (imputers) for a matrix with NaN for missing entries.

>>> from algoreg.estimators import SoftImputeCompleter
>>> Z = SoftImputeCompleter().fit_transform(X_with_nans)

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
