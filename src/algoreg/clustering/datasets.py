"""Named data sets for clustering studies: a CSV in a folder, or one bundled with scikit-learn.

A study's ``[problem]`` of a clustering trial is ``data`` (and optionally ``path`` and
``labels``):

- with ``path`` (a folder; ``--data DIR`` sets it), ``data`` names ``path/DATA.csv`` and
  ``labels`` an optional one-column CSV beside it (``blobs_labels.csv``); the data is named by
  content (``data_sha256``), so a trial has one id on every machine;
- without ``path``, ``data`` is one of scikit-learn's bundled sets (:data:`SKLEARN`, never
  downloaded; needs the ``sklearn`` extra) and its targets are the labels.

Nothing is read by :func:`check_dataset` beyond hashing the files; :func:`load_dataset` reads.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, did_you_mean
from .data import read_csv

SKLEARN = ("iris", "wine", "breast_cancer", "digits")
KEYS = ("data", "path", "labels")


def _file(folder: Path, name: str, what: str) -> Path:
    file = folder / (name if name.endswith(".csv") else f"{name}.csv")
    if not file.is_file():
        there = sorted(p.stem for p in folder.glob("*.csv"))
        raise ConfigError(
            f"{what}: {file} does not exist"
            + did_you_mean(Path(name).stem, there)
            + (f" (CSV files there: {', '.join(there)})" if there else "")
        )
    return file


def check_dataset(params: dict[str, Any]) -> dict[str, Any]:
    """The canonical ``[problem]`` of a clustering trial (see the module); errors name the
    key."""
    unknown = [k for k in params if k not in KEYS]
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: unknown key; allowed: {', '.join(KEYS)}"
            + did_you_mean(unknown[0], KEYS)
        )
    data, path, labels = params.get("data"), params.get("path"), params.get("labels")
    if not isinstance(data, str) or not data:
        raise ConfigError(f"data must name a data set (a CSV stem or {', '.join(SKLEARN)})")
    if path is None:
        if labels is not None:
            raise ConfigError("labels: a bundled data set brings its own labels; give a path")
        if data not in SKLEARN:
            raise ConfigError(
                f"data {data!r} is not bundled with scikit-learn ({', '.join(SKLEARN)}); for a "
                "CSV give path = its folder (--data DIR)" + did_you_mean(data, SKLEARN)
            )
        return {"data": data, "path": None, "labels": None}
    if not isinstance(path, str):
        raise ConfigError(f"path must be a folder name, got {path!r}")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"path: data folder {folder} does not exist (pass --data DIR)")
    files = [_file(folder, data, "data")]
    if labels is not None:
        if not isinstance(labels, str):
            raise ConfigError(f"labels must be a CSV file name, got {labels!r}")
        files.append(_file(folder, labels, "labels"))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return {
        "data": data,
        "path": str(folder.resolve()),
        "labels": labels,
        "data_sha256": digest.hexdigest()[:16],
    }


def read_labels(path: str | Path) -> np.ndarray:
    """The first column of a CSV with a header line, as strings."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r]
    if len(rows) < 2:
        raise ConfigError(f"{path}: expected a header line and one label per row")
    return np.array([r[0].strip() for r in rows[1:]])


def load_dataset(problem: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, labels or None)`` of a canonical ``[problem]`` (:func:`check_dataset`)."""
    if problem["path"] is None:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{problem['data']}")()
        return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target)
    folder = Path(problem["path"])
    X, _ = read_csv(_file(folder, problem["data"], "data"))
    if problem["labels"] is None:
        return X, None
    labels = read_labels(_file(folder, problem["labels"], "labels"))
    if len(labels) != len(X):
        raise ConfigError(f"labels: {len(labels)} labels for {len(X)} rows of {problem['data']}")
    return X, labels


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Hubert & Arabie's ARI of two labelings (1: identical partitions, ≈ 0: chance)."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)

    def pairs(x: np.ndarray) -> float:
        return float(np.sum(x * (x - 1)) / 2)

    both, rows, cols, total = (
        pairs(table),
        pairs(table.sum(1)),
        pairs(table.sum(0)),
        pairs(np.array([len(a)])),
    )
    expected = rows * cols / total if total else 0.0
    top = (rows + cols) / 2
    return 1.0 if top == expected else (both - expected) / (top - expected)
