"""MovieLens-100K ratings from a folder the user supplies (never downloaded, never shipped).

The GroupLens licence forbids redistribution: get ``ml-100k.zip`` from
https://grouplens.org/datasets/movielens/100k/, unzip it, and pass the ``ml-100k`` folder.

File format (``u.data`` and the split files ``u1.base`` … ``u5.test``, ``ua.*``, ``ub.*``): one
rating per line, ``user item rating timestamp`` separated by tabs, ids 1-based. The loader checks
every line and stops at the first problem with the file name and line number: wrong number of
fields, a non-numeric field, an id or rating out of range, a duplicated (user, item) pair. With
``strict=True`` (default) it also checks the published counts (100,000 ratings, 943 users, 1682
items, ratings 1–5; split sizes 80,000/20,000 and 90,570/9,430) and that each split's base and
test files are disjoint and together are exactly ``u.data``. Two known modified copies are read
with a :class:`DataWarning` naming what was skipped (nothing is dropped silently): a header line
(``user_id item_id rating timestamp``) and the ratings of an added user 0 (the 100,003-line copy
circulating with course material).
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from pathlib import Path

import numpy as np

from ..errors import ConfigError, check_choice, check_int, check_real
from ..problems.ratings import Ratings, RatingsProblem

ML100K_SHAPE = (943, 1682)
ML100K_N_RATINGS = 100_000
RATING_RANGE = (1.0, 5.0)
CANONICAL_SPLITS = {
    **{f"u{k}": (80_000, 20_000) for k in range(1, 6)},
    "ua": (90_570, 9_430),
    "ub": (90_570, 9_430),
}
SPLITS = (*CANONICAL_SPLITS, "random", "arora")
DEFAULT_TEST_FRACTION = 0.2
GROUPLENS_URL = "https://grouplens.org/datasets/movielens/100k/"
WHERE_TO_GET = (
    "MovieLens-100K is not shipped with algoreg (its licence forbids redistribution): download "
    f"ml-100k.zip from {GROUPLENS_URL}, unzip it and pass the ml-100k folder (the one holding "
    "u.data) as the path"
)
FIELDS = "user, item, rating, timestamp"


class DataFileError(ConfigError):
    """A data file is missing or malformed; ``file`` and ``line`` (1-based) say where."""

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.file = None if file is None else str(file)
        self.line = line


class DataNotFoundError(DataFileError, FileNotFoundError):
    """A data file or folder does not exist (the message says where to get the data)."""


class DataWarning(UserWarning):
    """A data file is a known modified copy; the warning says what was skipped."""


def check_path(path: str | Path) -> Path:
    """The folder ``path`` (``~`` expanded) if it holds ``u.data``, else
    :class:`DataNotFoundError` saying where to get the data."""
    folder = Path(path).expanduser()
    if (folder / "u.data").is_file():
        return folder
    if folder.is_file():
        what = f"{folder} is a file; pass the folder holding u.data"
    elif folder.is_dir():
        what = f"{folder} has no u.data"
        if (folder / "ml-100k" / "u.data").is_file():
            what += f" (did you mean {folder / 'ml-100k'}?)"
    else:
        what = f"MovieLens-100K folder {folder} does not exist"
    raise DataNotFoundError(f"{what}. {WHERE_TO_GET}", folder)


def data_digest(path: str | Path, split: str = "u1") -> str:
    """SHA-256 (first 16 hex digits) of the files a split reads: ``u.data`` and, for a
    canonical split, its ``.base`` and ``.test`` files. A study names its MovieLens trials by
    this digest, not by the folder, so one trial has one id on every machine."""
    folder = check_path(path).resolve()
    names = ["u.data", *((f"{split}.base", f"{split}.test") if split in CANONICAL_SPLITS else ())]
    stats = []
    for name in names:
        file = folder / name
        if not file.is_file():
            raise DataNotFoundError(f"{file} does not exist. {WHERE_TO_GET}", file)
        stats.append((name, file.stat().st_size, file.stat().st_mtime_ns))
    return _digest(str(folder), tuple(stats))


@functools.lru_cache(maxsize=16)
def _digest(folder: str, stats: tuple[tuple[str, int, int], ...]) -> str:  # keyed on the stats
    h = hashlib.sha256()
    for name, _, _ in stats:
        h.update(name.encode() + b"\0" + (Path(folder) / name).read_bytes())
    return h.hexdigest()[:16]


def check_split(
    split: str,
    test_fraction: float | None = None,
    n_train: int | None = None,
    n_ratings: int | None = ML100K_N_RATINGS,
) -> tuple[str, float | None, int | None]:
    """Validate a split's parameters: ``(split, test_fraction, n_train)``, the unused ones None.

    ``random`` holds out ``test_fraction`` (default 0.2) of the ratings; ``arora`` trains on
    ``n_train`` ratings (required, at most ``n_ratings − 1``); canonical splits take neither.
    """
    check_choice("split", split, SPLITS)
    if split != "random" and test_fraction is not None:
        raise ConfigError(f"test_fraction applies to split 'random' only, not {split!r}")
    if split != "arora" and n_train is not None:
        raise ConfigError(f"n_train applies to split 'arora' only, not {split!r}")
    if split == "random":
        test_fraction = DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction
        test_fraction = check_real(
            "test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True
        )
    if split == "arora":
        if n_train is None:
            raise ConfigError("split 'arora' needs n_train (the number of training ratings)")
        high = None if n_ratings is None else n_ratings - 1
        n_train = check_int("n_train", n_train, low=1, high=high)
    return split, test_fraction, n_train


# ------------------------------------------------------------------------------ parsing


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=16)
def _parse_cached(file: str, size: int, mtime_ns: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """(int64 [user, item, timestamp, line] rows, float64 ratings, warnings) of one file;
    cached on (path, size, modification time)."""
    raw = Path(file).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        bad_line = raw[: e.start].count(b"\n") + 1
        raise DataFileError(
            f"{file} line {bad_line}: not UTF-8 text ({e.reason})", file, bad_line
        ) from None
    lines = text.splitlines()
    last = len(lines)
    while last > 0 and not lines[last - 1].strip():
        last -= 1  # trailing blank lines hold no data
    ints: list[tuple[int, int, int, int]] = []
    ratings: list[float] = []
    notes: list[str] = []
    for no, line in enumerate(lines[:last], 1):
        fields = line.split()
        if not fields:
            raise DataFileError(f"{file} line {no}: empty line", file, no)
        if no == 1 and len(fields) == 4 and not any(_is_number(f) for f in fields):
            notes.append(
                f"{file} line 1 {line.strip()!r} is a header, not a rating (a known modified "
                "copy of the file); skipped"
            )
            continue
        if len(fields) != 4:
            raise DataFileError(
                f"{file} line {no}: expected 4 tab-separated fields ({FIELDS}), got "
                f"{len(fields)}: {line.strip()!r}",
                file,
                no,
            )
        try:
            user, item, stamp = int(fields[0]), int(fields[1]), int(fields[3])
            rating = float(fields[2])
        except ValueError:
            raise DataFileError(
                f"{file} line {no}: non-numeric field in {line.strip()!r}; expected integers "
                f"{FIELDS} (rating may be a number)",
                file,
                no,
            ) from None
        if not math.isfinite(rating):
            raise DataFileError(f"{file} line {no}: rating {fields[2]!r} is not finite", file, no)
        ints.append((user, item, stamp, no))
        ratings.append(rating)
    rows = np.array(ints, dtype=np.int64).reshape(-1, 4)
    values = np.array(ratings, dtype=np.float64)
    rows.flags.writeable = values.flags.writeable = False
    return rows, values, tuple(notes)


def read_ratings_file(
    file: str | Path,
    *,
    shape: tuple[int, int] | None = None,
    rating_range: tuple[float, float] | None = None,
) -> Ratings:
    """Read one MovieLens ratings file (``user item rating timestamp`` per line, 1-based ids).

    ``shape`` = (number of users, number of items) bounds the ids (default: the largest ids
    read); ``rating_range`` bounds the ratings (default: unchecked). Raises
    :class:`DataFileError` with the line number at the first malformed line, id or rating out
    of range, or duplicated (user, item) pair. A header line and an added user 0 are skipped
    with a :class:`DataWarning`. Returns 0-based :class:`~algoreg.problems.Ratings` carrying
    timestamps and line numbers.
    """
    file = Path(file).expanduser()
    if not file.is_file():
        raise DataNotFoundError(f"{file} not found. {WHERE_TO_GET}", file)
    stat = file.stat()
    rows, values, notes = _parse_cached(str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    users, items, stamps, lines = rows.T
    user0 = users == 0
    if user0.any():
        at = lines[user0]
        shown = ", ".join(map(str, at[:5])) + (", …" if at.size > 5 else "")
        notes += (
            f"{file}: {at.size} rating(s) of user 0 (lines {shown}) skipped: MovieLens user ids "
            "start at 1; this is a known modified copy (the 100,003-line u.data of course "
            "material adds a user 0)",
        )
        keep = ~user0
        users, items, stamps, lines, values = (
            a[keep] for a in (users, items, stamps, lines, values)
        )
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=2)
    if users.size == 0:
        raise DataFileError(f"{file} holds no ratings", file)
    if shape is None:
        shape = (int(users.max()), int(items.max()))
    for name, ids, size in (("user", users, shape[0]), ("item", items, shape[1])):
        bad = np.flatnonzero((ids < 1) | (ids > size))
        if bad.size:
            k = bad[0]
            raise DataFileError(
                f"{file} line {lines[k]}: {name} id {ids[k]} is outside 1..{size}", file, lines[k]
            )
    if rating_range is not None:
        low, high = rating_range
        bad = np.flatnonzero((values < low) | (values > high))
        if bad.size:
            k = bad[0]
            raise DataFileError(
                f"{file} line {lines[k]}: rating {values[k]:g} is outside {low:g}..{high:g}",
                file,
                lines[k],
            )
    keys = (users - 1) * shape[1] + (items - 1)
    order = np.argsort(keys, kind="stable")
    dup = np.flatnonzero(np.diff(keys[order]) == 0)
    if dup.size:
        a, b = order[dup[0]], order[dup[0] + 1]
        raise DataFileError(
            f"{file} line {lines[b]}: duplicated (user {users[b]}, item {items[b]}), first "
            f"rated on line {lines[a]}",
            file,
            lines[b],
        )
    return Ratings(users - 1, items - 1, values, shape, stamps, lines, str(file))


# ------------------------------------------------------------------------ MovieLens-100K


def load_movielens100k(path: str | Path, *, strict: bool = True) -> Ratings:
    """All 100,000 ratings of ``path/u.data`` as 0-based :class:`~algoreg.problems.Ratings`.

    ``strict`` checks the published counts (100,000 ratings of 943 users × 1682 items, every
    user and item rated, integer ratings 1–5); ``strict=False`` checks only the format and takes
    the shape from the largest ids (for subsets and test fixtures).
    """
    file = check_path(path) / "u.data"
    if not strict:
        return read_ratings_file(file, rating_range=RATING_RANGE)
    data = read_ratings_file(file, shape=ML100K_SHAPE, rating_range=RATING_RANGE)
    counts = {
        "ratings": (len(data), ML100K_N_RATINGS),
        "users": (np.unique(data.users).size, ML100K_SHAPE[0]),
        "items": (np.unique(data.items).size, ML100K_SHAPE[1]),
    }
    for what, (got, want) in counts.items():
        if got != want:
            raise DataFileError(
                f"{file} has {got} {what}, expected {want}: not the original MovieLens-100K "
                f"(pass strict=False to read a modified copy). {WHERE_TO_GET}",
                file,
            )
    fractional = np.flatnonzero(data.values != np.round(data.values))
    if fractional.size:
        line = int(_lines(data)[fractional[0]])
        raise DataFileError(
            f"{file} line {line}: rating {data.values[fractional[0]]:g} is not an integer",
            file,
            line,
        )
    return data


def _lines(ratings: Ratings) -> np.ndarray:
    """The file line of each rating (0 where the ratings were not read from a file)."""
    if ratings.lines is None:
        return np.zeros(len(ratings), np.int64)
    return ratings.lines


def _check_part(part: Ratings, full: Ratings) -> None:
    """Every rating of ``part`` is in ``full`` with the same value."""
    order = np.argsort(full.keys)
    sorted_keys = full.keys[order]
    pos = np.minimum(np.searchsorted(sorted_keys, part.keys), sorted_keys.size - 1)
    found = sorted_keys[pos] == part.keys
    if not found.all():
        k = np.flatnonzero(~found)[0]
        raise DataFileError(
            f"{part.source} line {_lines(part)[k]}: (user {part.users[k] + 1}, item "
            f"{part.items[k] + 1}) is not rated in {full.source}",
            part.source,
            int(_lines(part)[k]),
        )
    match = full.values[order[pos]]
    bad = np.flatnonzero(match != part.values)
    if bad.size:
        k = bad[0]
        raise DataFileError(
            f"{part.source} line {_lines(part)[k]}: rating {part.values[k]:g} differs from "
            f"{full.source} line {_lines(full)[order[pos[k]]]} ({match[k]:g})",
            part.source,
            int(_lines(part)[k]),
        )


def split_movielens100k(
    path: str | Path,
    split: str = "u1",
    *,
    test_fraction: float | None = None,
    n_train: int | None = None,
    seed: int = 0,
    strict: bool = True,
) -> tuple[Ratings, Ratings]:
    """(train, test) ratings of one split of MovieLens-100K.

    - ``u1``…``u5``, ``ua``, ``ub``: the published ``<split>.base`` / ``<split>.test`` files,
      checked to be disjoint and drawn from ``u.data`` (with ``strict``, also their sizes and
      that together they are all of ``u.data``);
    - ``random``: a seeded uniform hold-out of round(``test_fraction``·N) ratings (default 0.2);
    - ``arora``: ``n_train`` uniformly drawn training ratings, the rest for testing (Arora et
      al. 2019). Both draw from one permutation of ``u.data``'s ratings per ``seed``, so with a
      fixed seed a larger ``n_train`` trains on a superset.
    """
    split, test_fraction, n_train = check_split(split, test_fraction, n_train, None)
    seed = check_int("seed", seed, low=0)
    folder = check_path(path)
    data = load_movielens100k(folder, strict=strict)
    N = len(data)
    if split in CANONICAL_SPLITS:
        parts = [
            read_ratings_file(
                folder / f"{split}.{ext}", shape=data.shape, rating_range=RATING_RANGE
            )
            for ext in ("base", "test")
        ]
        base, test = parts
        both, ib, it = np.intersect1d(base.keys, test.keys, return_indices=True)
        if both.size:
            raise DataFileError(
                f"(user {base.users[ib[0]] + 1}, item {base.items[ib[0]] + 1}) is in both "
                f"{base.source} (line {_lines(base)[ib[0]]}) and {test.source} (line "
                f"{_lines(test)[it[0]]}); a split's base and test must be disjoint",
                test.source,
                int(_lines(test)[it[0]]),
            )
        for part in parts:
            _check_part(part, data)
        if strict:
            sizes = (len(base), len(test))
            if sizes != CANONICAL_SPLITS[split]:
                raise DataFileError(
                    f"{split}.base/{split}.test hold {sizes[0]}/{sizes[1]} ratings, expected "
                    f"{CANONICAL_SPLITS[split][0]}/{CANONICAL_SPLITS[split][1]}",
                    folder / f"{split}.base",
                )
        return base, test
    perm = np.random.default_rng(seed).permutation(N)
    if split == "random":
        assert test_fraction is not None  # check_split gives a random split its fraction
        n_test = round(test_fraction * N)
        if not 1 <= n_test <= N - 1:
            raise ConfigError(
                f"test_fraction {test_fraction} of {N} ratings leaves {n_test} test ratings; "
                "need between 1 and N − 1"
            )
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    else:
        assert n_train is not None  # check_split gives an Arora-style split its n_train
        if n_train > N - 1:
            raise ConfigError(f"n_train must be <= {N - 1} (N − 1 ratings), got {n_train}")
        train_idx, test_idx = perm[:n_train], perm[n_train:]
    return data.subset(np.sort(train_idx)), data.subset(np.sort(test_idx))


def movielens100k(
    path: str | Path,
    split: str = "u1",
    *,
    test_fraction: float | None = None,
    n_train: int | None = None,
    seed: int = 0,
    center: bool = True,
    strict: bool = True,
) -> RatingsProblem:
    """MovieLens-100K (943 users × 1682 items) as a :class:`~algoreg.problems.RatingsProblem`.

    ``split`` as in :func:`split_movielens100k`; ``center`` subtracts the mean training rating
    (predictions are μ₀ + W, see :class:`~algoreg.problems.RatingsProblem`); ratings are on
    the 1–5 scale (the clipping range of the ``*_clipped`` metrics).
    """
    split, test_fraction, n_train = check_split(split, test_fraction, n_train, None)
    train, test = split_movielens100k(
        path, split, test_fraction=test_fraction, n_train=n_train, seed=seed, strict=strict
    )
    detail = {"random": f", test_fraction={test_fraction}", "arora": f", n_train={n_train}"}
    name = f"ml-100k {split}{detail.get(split, '')}" + (f", seed={seed}" if split in detail else "")
    return RatingsProblem(train, test, center=center, rating_range=RATING_RANGE, name=name)
