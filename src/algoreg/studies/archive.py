"""Store archives: a study's results as one text file that can live in git.

A study directory (``results.sqlite``) is a working file on the machine that ran it; an
archive is its portable, reviewable copy, written by ``algoreg export DIR --archive FILE`` and
read wherever a study directory is read (``status``, ``results``, ``plot``, ``report``, and
as a source of ``merge``, which is also how a run is resumed from one). Format: JSON Lines,
gzip-compressed when the name ends in ``.gz`` (with a zero timestamp, so equal contents give
equal bytes). The first line is ``{"algoreg_archive": 1, "meta": {...}}``; then one line per
trial, ``{"trial": {...}, "history": {name: [[step, value], ...]}, "vectors": {name: [[step,
base64], ...]}}``, a vector (e.g. the singular values at a step) being the base64 of its
little-endian float64 bytes (half the size of decimal text once compressed). Scalars are
written with Python's shortest round-trip repr (NaN as ``NaN``), so a store → archive → store
round trip is exact.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import sqlite3
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import ConfigError
from .schema import insert_trial, trial_rows

VERSION = 1
SUFFIXES = (".jsonl", ".jsonl.gz")


def is_archive(path: str | Path) -> bool:
    """Whether ``path`` names an archive file (``.jsonl`` or ``.jsonl.gz``)."""
    return str(path).endswith(SUFFIXES)


def archive_stem(path: str | Path) -> Path:
    """``results/NAME.jsonl.gz`` → ``results/NAME`` (where files made from it go)."""
    path = Path(path)
    for suffix in (".jsonl.gz", ".jsonl"):
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path


@contextmanager
def _open(path: Path, mode: str, zipped: bool) -> Iterator[IO[str]]:
    """Text stream of ``path``, through gzip (with a zero timestamp) if ``zipped``."""
    newline = "\n" if mode == "w" else None  # the same bytes on every platform
    if not zipped:
        with open(path, mode, encoding="utf-8", newline=newline) as f:
            yield f
        return
    with (
        open(path, mode + "b") as raw,
        gzip.GzipFile(filename="", mode=mode + "b", fileobj=raw, mtime=0) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline=newline) as f,
    ):
        yield f


def _lines(db: sqlite3.Connection, ids: Iterable[str] | None) -> Iterator[str]:
    meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta ORDER BY key")}
    yield json.dumps({"algoreg_archive": VERSION, "meta": meta}, ensure_ascii=False)
    wanted = None if ids is None else set(ids)
    for trial in trial_rows(db):
        tid = trial["trial_id"]
        if wanted is not None and tid not in wanted:
            continue
        trial["config"], trial["metrics"] = (
            json.loads(trial["config"]),
            json.loads(trial["metrics"]),
        )
        history: dict[str, list] = {}
        for step, name, value in db.execute(
            "SELECT step, name, value FROM history WHERE trial_id = ? ORDER BY name, step", (tid,)
        ):
            history.setdefault(name, []).append([step, value])
        vectors: dict[str, list] = {}
        for step, name, data in db.execute(
            "SELECT step, name, data FROM history_vectors WHERE trial_id = ? ORDER BY name, step",
            (tid,),
        ):
            vectors.setdefault(name, []).append([step, base64.b64encode(data).decode("ascii")])
        yield json.dumps(
            {"trial": trial, "history": history, "vectors": vectors}, ensure_ascii=False
        )


def write_archive(db: sqlite3.Connection, path: str | Path, ids: Iterable[str] | None) -> int:
    """Write the store behind ``db`` (only the trials in ``ids`` if given) to ``path``
    atomically — read in one transaction (a consistent snapshot of a store being written),
    written to a temporary file that is synced and renamed into place; returns the number of
    trials."""
    path = Path(path)
    if not is_archive(path):
        raise ConfigError(f"{path}: an archive's name ends in {' or '.join(SUFFIXES)}")
    count, tmp = 0, None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        os.close(fd)
        tmp = Path(name)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # as a plain open() would make it, not mkstemp's 0600
        db.execute("BEGIN")
        try:
            with _open(tmp, "w", zipped=path.name.endswith(".gz")) as f:
                for line in _lines(db, ids):
                    f.write(line + "\n")
                    count += 1
                f.flush()
                os.fsync(f.fileno())
        finally:
            db.rollback()  # ends the read transaction
        os.replace(tmp, path)
    except OSError as e:
        raise ConfigError(f"{path}: cannot write the archive ({e})") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return count - 1  # the first line is the header


def require_archive(path: str | Path) -> None:
    """A clear error if there is no archive file at ``path`` (its contents are not read)."""
    if not Path(path).is_file():
        raise ConfigError(f"{path}: no such archive file")


def read_archive(path: str | Path, db: sqlite3.Connection) -> None:
    """Load the archive at ``path`` into the (empty, schema-initialized) store ``db``."""
    path = Path(path)
    require_archive(path)
    number = 1  # the line being read, for the errors
    try:
        with _open(path, "r", zipped=path.name.endswith(".gz")) as f, db:
            try:
                head = json.loads(f.readline() or "null")
            except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
                raise ConfigError(f"{path}: not an algoreg archive ({e})") from None
            _check_head(path, head)
            for key, value in head.get("meta", {}).items():
                db.execute("INSERT INTO meta VALUES (?, ?)", (key, json.dumps(value)))
            for number, line in enumerate(f, start=2):
                try:
                    _insert(db, json.loads(line))
                except (KeyError, TypeError, ValueError, sqlite3.Error) as e:
                    # ValueError: also JSONDecodeError, UnicodeDecodeError; sqlite3.Error:
                    # e.g. one trial recorded twice
                    raise ConfigError(
                        f"{path}, line {number}: not a trial record ({e!r})"
                    ) from None
    except (OSError, EOFError, zlib.error) as e:
        where = "its header" if number == 1 else f"line {number}"
        raise ConfigError(f"{path}: unreadable, truncated or corrupt at {where} ({e})") from None


def _check_head(path: Path, head: object) -> None:
    if not isinstance(head, dict) or not isinstance(head.get("meta", {}), dict):
        raise ConfigError(f"{path}: not an algoreg archive (its first line is not a header)")
    if head.get("algoreg_archive") is None:
        raise ConfigError(
            f"{path}: not an algoreg archive (its first line has no 'algoreg_archive' "
            "header; archives are written by `algoreg export DIR --archive FILE`)"
        )
    if head["algoreg_archive"] != VERSION:
        raise ConfigError(
            f"{path}: archive format {head['algoreg_archive']!r}; this algoreg reads "
            f"format {VERSION}"
        )
    meta = head.get("meta", {})
    study, ids = meta.get("study"), meta.get("trial_ids")
    problem = None
    if study is not None and not isinstance(study, dict):
        problem = "meta.study must be a table"
    elif study is not None and not isinstance(study.get("report", {}), dict):
        problem = "meta.study.report must be a table"
    elif ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        problem = "meta.trial_ids must be a list of trial ids"
    if problem:
        raise ConfigError(f"{path}: a damaged archive header: {problem}")


def _insert(db: sqlite3.Connection, record: dict) -> None:
    trial = dict(record["trial"])
    tid = trial["trial_id"]
    if not isinstance(trial["config"], dict) or not isinstance(trial["metrics"], dict):
        raise TypeError("config and metrics must be tables")
    trial["config"] = json.dumps(trial["config"], sort_keys=True)  # as Store.write encodes them
    trial["metrics"] = json.dumps(trial["metrics"])
    insert_trial(db, trial)  # not replacing: a trial recorded twice is an error
    db.executemany(
        "INSERT INTO history VALUES (?, ?, ?, ?)",
        [
            (tid, step, name, value)
            for name, rows in record["history"].items()
            for step, value in rows
        ],
    )
    db.executemany(
        "INSERT INTO history_vectors VALUES (?, ?, ?, ?)",
        [
            (tid, step, name, _vector(v))
            for name, rows in record["vectors"].items()
            for step, v in rows
        ],
    )


def _vector(text: str) -> bytes:
    data = base64.b64decode(text, validate=True)
    if len(data) % 8:
        raise ValueError(f"a vector of {len(data)} bytes is not float64 values")
    return data
