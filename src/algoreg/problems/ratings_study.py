"""The ``ratings`` problem kind of study files (``[problem] kind = "ratings"``): its
parameters checked without reading the ratings, and the problem built from a data folder by
the MovieLens loader (:mod:`algoreg.datasets.movielens`). Apart from :mod:`.ratings`, whose data
types the loader itself uses, so that neither module imports the other."""

from __future__ import annotations

from pathlib import Path

from ..datasets.movielens import ML100K_SHAPE, check_path, check_split, data_digest, movielens100k
from ..errors import ConfigError, check_choice, check_int, check_real
from .ratings import RatingsProblem, check_center, hold_out

DATASETS = ("ml-100k",)


def check_ratings(
    path: str,
    split: str = "u1",
    test_fraction: float | None = None,
    n_train: int | None = None,
    center: bool | str = True,
    dataset: str = "ml-100k",
    validation: float = 0.0,
    seed: int = 0,
) -> dict:
    """Validated, normalized parameters of :func:`ratings` without reading the ratings.

    ``path`` must be a folder holding ``u.data``; ``split`` is ``u1``…``u5``, ``ua``, ``ub``
    (canonical files), ``random`` (``test_fraction`` held out, default 0.2) or ``arora``
    (``n_train`` random training ratings, test on the rest). Parameters a split does not use
    must be left out; they are normalized to None so they do not split trial identities, and
    ``path`` to the absolute folder. ``data_sha256`` (:func:`~algoreg.datasets.data_digest`,
    which reads the split's files but does not parse them) names the data by content: a
    study's trial ids leave the folder out, so the same study names the same trials on any
    machine. ``validation`` holds out that fraction of the training ratings (seeded by
    ``seed``) as a validation set. ``center`` is True (predictions μ₀ + W), False, or
    ``"bias"`` (μ + b_u + b_i + W, biases fitted on the training ratings; see
    :class:`~algoreg.problems.RatingsProblem`).
    """
    check_choice("dataset", dataset, DATASETS)
    if not isinstance(path, (str, Path)):
        raise ConfigError(f"path must be a folder name, got {path!r} ({type(path).__name__})")
    folder = check_path(path)
    split, test_fraction, n_train = check_split(split, test_fraction, n_train)
    center = check_center(center)
    return {
        "path": str(folder.resolve()),
        "split": split,
        "test_fraction": test_fraction,
        "n_train": n_train,
        "center": center,
        "dataset": dataset,
        "validation": check_real("validation", validation, low=0.0, high=1.0, high_open=True),
        "shape": ML100K_SHAPE,
        "data_sha256": data_digest(folder, split),
        "seed": check_int("seed", seed, low=0),
    }


def ratings(
    path: str,
    split: str = "u1",
    test_fraction: float | None = None,
    n_train: int | None = None,
    center: bool | str = True,
    dataset: str = "ml-100k",
    validation: float = 0.0,
    *,
    shape: tuple[int, int] | None = None,
    data_sha256: str | None = None,
    seed: int = 0,
) -> RatingsProblem:
    """The ratings problem a study file's ``[problem] kind = "ratings"`` table describes.

    Same parameters as :func:`check_ratings`; ``shape`` and ``data_sha256`` (filled in by the
    study resolver) must match the data. ``seed`` draws the ``random``/``arora`` splits
    (canonical splits ignore it).
    """
    a = check_ratings(path, split, test_fraction, n_train, center, dataset, validation, seed)
    if shape is not None and tuple(shape) != a["shape"]:
        raise ConfigError(f"shape {tuple(shape)} does not match {dataset}'s {a['shape']}")
    if data_sha256 is not None and data_sha256 != a["data_sha256"]:
        raise ConfigError(
            f"the {split} files in {a['path']} have digest {a['data_sha256']}, not the "
            f"{data_sha256} this trial was defined with: the data changed since"
        )
    problem = movielens100k(
        a["path"],
        a["split"],
        test_fraction=a["test_fraction"],
        n_train=a["n_train"],
        seed=a["seed"],
        center=a["center"],
    )
    return problem if not a["validation"] else hold_out(problem, a["validation"], a["seed"])
