"""scikit-learn's bundled handwritten digits (offline): 1797 8×8 images, 10 classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, check_int, check_real


@dataclass(frozen=True)
class Split:
    """Train / validation / test arrays (features float32, labels int32)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1


def digits(seed: int = 0, val: float = 0.2, test: float = 0.2, images: bool = False) -> Split:
    """``sklearn.datasets.load_digits`` split stratified train/val/test (60/20/20 by default).

    Pixels (0…16) are standardized with the training set's per-pixel mean and std (std 0 → 1).
    ``images=True`` returns (n, 1, 8, 8) arrays (NCHW) for convolutional models.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ConfigError(
            "the digits data ships with scikit-learn: pip install 'algoreg[sklearn]'"
        ) from None

    check_int("seed", seed, low=0)
    check_real("val", val, low=0.0, high=1.0, low_open=True, high_open=True)
    check_real("test", test, low=0.0, high=1.0, low_open=True, high_open=True)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    y = y.astype(np.int32)
    x_tr, x_te, y_tr, y_te = train_test_split(X, y, test_size=test, random_state=seed, stratify=y)
    x_tr, x_va, y_tr, y_va = train_test_split(
        x_tr, y_tr, test_size=val / (1 - test), random_state=seed + 1, stratify=y_tr
    )
    mu, sd = x_tr.mean(0), x_tr.std(0)
    sd = np.where(sd > 0, sd, 1.0).astype(np.float32)
    f = (lambda a: ((a - mu) / sd).reshape(-1, 1, 8, 8)) if images else (lambda a: (a - mu) / sd)
    return Split(f(x_tr), y_tr, f(x_va), y_va, f(x_te), y_te)
