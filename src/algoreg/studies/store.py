"""The results store: one SQLite database per study directory (``results.sqlite``, WAL).

Only the coordinating process writes (and ``algoreg merge``, which copies whole trials from
other stores in one transaction). Each finished trial is one transaction — its row in
``trials`` (config JSON, status, error, final metrics JSON, steps, wall time, the software it
ran with) and its logged history in the long tables ``history`` (scalars) and
``history_vectors`` (singular values, as little-endian float64 bytes) — so a study killed at
any moment keeps every trial it had finished and loses only those in flight. Readers
(``status``, ``results``) may open the database while a study runs. ``Store(FILE,
create=False)`` opens an archive (:mod:`.archive`, the store as one text file) in memory
instead.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .archive import is_archive, read_archive, write_archive
from .schema import SCHEMA, insert_trial, trial_rows

DB_NAME = "results.sqlite"


@dataclass
class MergeSummary:
    """What :meth:`Store.merge` did: trials ``added``, failed trials ``replaced`` by finished
    ones, trials ``kept`` (already here), and the kept ones whose stored metrics ``differ``."""

    added: int = 0
    replaced: int = 0
    kept: int = 0
    differ: list[str] = field(default_factory=list)


def _read_only_archive(path: str | Path) -> ConfigError:
    return ConfigError(
        f"{path}: an archive is read-only; write results to a study directory "
        "(and make an archive of it with `algoreg export DIR --archive FILE`)"
    )


def prepare_directory(directory: Path) -> None:
    """Create a study directory (and its parents), or say clearly why it cannot be one: an
    archive's name, a file of that name, a file among its parents, no permission, a read-only
    filesystem."""
    if is_archive(directory):
        raise _read_only_archive(directory)
    for parent in (directory, *directory.parents):
        if parent.exists() and not parent.is_dir():
            where = "is" if parent == directory else f"lies under {parent}, which is"
            raise ConfigError(
                f"{directory}: a study directory is needed here, but it {where} a file"
            )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{directory}: cannot create the study directory ({exc.strerror})"
        ) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"{directory}: the study directory is not writable")


def _unreadable(path: Path, exc: Exception | None) -> str:
    return (
        f"{path}: not a readable algoreg results database ({exc}); it may be damaged or "
        "truncated: an archive of it (`algoreg export DIR --archive FILE`), if one was made, "
        "can be merged into a new directory"
    )


def _open_readonly(path: Path, directory: Path) -> sqlite3.Connection:
    """Open a store for reading only, writing nothing beside it (a store on a read-only
    filesystem, or someone else's, can be read). While a writer has the store open its WAL
    file exists and SQLite's read-only mode shares the writer's index; with no WAL file, no
    writer is running and the file is opened as immutable — read-only mode would leave a WAL
    index behind. (A writer starting while it is read changes only the WAL file until a
    checkpoint, so the read stays consistent.)"""
    if not path.is_file():
        if not directory.exists():
            raise ConfigError(f"{directory}: no study results here (no such directory)")
        raise ConfigError(f"{directory}: no study results here (no {DB_NAME})")
    uri = path.resolve().as_uri()
    modes = ["mode=ro", "mode=ro&immutable=1"]  # the second: on a read-only filesystem
    if not path.with_name(path.name + "-wal").exists():
        modes = modes[1:]
    last: Exception | None = None
    for mode in modes:
        db = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=30.0)
        try:
            for table in ("meta", "trials", "history", "history_vectors"):
                db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
            return db
        except sqlite3.DatabaseError as exc:
            db.close()
            last = exc
            if not isinstance(exc, sqlite3.OperationalError) or "no such table" in str(exc):
                break  # not a store at all: read-only access is not the problem
    raise ConfigError(_unreadable(path, last))


class Store:
    """A study directory's results database."""

    def __init__(self, directory: str | Path, *, create: bool = True) -> None:
        self.directory = Path(directory)
        if is_archive(directory):  # read into memory: reading commands take archives too
            if create:
                raise _read_only_archive(directory)
            self.path = self.directory
            self.db = sqlite3.connect(":memory:")
            self.db.executescript(SCHEMA)
            try:
                read_archive(self.directory, self.db)
            except BaseException:
                self.db.close()
                raise
            return
        self.path = self.directory / DB_NAME
        if not create:
            self.db = _open_readonly(self.path, self.directory)
            return
        prepare_directory(self.directory)
        try:
            self.db = sqlite3.connect(self.path, timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(_unreadable(self.path, exc)) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ meta
    def set_meta(self, key: str, value: Any) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def study_ids(self) -> list[str] | None:
        """Trial ids of the grid of the study last run into this store (None: no study ran).
        The store may also hold trials of an earlier grid; reports and ``status`` show only the
        study's own (``--all``: every stored trial)."""
        return self.meta("trial_ids")

    def dump(self, path: str | Path, ids: Iterable[str] | None = None) -> int:
        """Write this store (only the trials in ``ids`` if given, with their histories, and
        the study meta) as an archive file (see :mod:`.archive`); returns the trials written."""
        return write_archive(self.db, path, ids)

    # ------------------------------------------------------------------ trials
    def finished_ids(self, *, include_failed: bool = True) -> set[str]:
        sql = "SELECT trial_id FROM trials"
        if not include_failed:
            sql += " WHERE status != 'failed'"
        return {row[0] for row in self.db.execute(sql)}

    def write(self, config: dict[str, Any], record: dict[str, Any]) -> None:
        """Store one finished trial and its history in a single transaction."""
        tid = record["trial_id"]
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        scalars, vectors = [], []
        history = record.get("history") or {}
        steps = history.get("step", [])
        for name, values in history.items():
            if name == "step":
                continue
            for step, value in zip(steps, values, strict=True):
                if isinstance(value, list):
                    vectors.append((tid, step, name, np.asarray(value, "<f8").tobytes()))
                else:
                    scalars.append((tid, step, name, None if value != value else float(value)))
        with self.db:
            self.db.execute("DELETE FROM history WHERE trial_id = ?", (tid,))
            self.db.execute("DELETE FROM history_vectors WHERE trial_id = ?", (tid,))
            row = {
                "trial_id": tid,
                "config": json.dumps(config, sort_keys=True),
                "status": record["status"],
                "error": record["error"],
                "metrics": json.dumps(record["metrics"]),
                "steps": record["steps"],
                "wall_s": record["wall_s"],
                "batch_size": record.get("batch_size"),
                "version": record.get("version"),
                "finished_at": now,
            }
            insert_trial(self.db, row, replace=True)
            self.db.executemany("INSERT INTO history VALUES (?, ?, ?, ?)", scalars)
            self.db.executemany("INSERT INTO history_vectors VALUES (?, ?, ?, ?)", vectors)

    def trials(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Stored trials as dicts (config and metrics decoded), in insertion order."""
        wanted = None if ids is None else set(ids)
        out = []
        for row in trial_rows(self.db):
            if wanted is None or row["trial_id"] in wanted:
                for key in ("config", "metrics"):
                    row[key] = json.loads(row[key])
                out.append(row)
        return out

    def history(self, trial_id: str) -> dict[str, np.ndarray]:
        """Logged history of one trial: ``step`` plus one array per quantity."""
        result: dict[str, Any] = {}
        rows = self.db.execute(
            "SELECT step, name, value FROM history WHERE trial_id = ? ORDER BY name, step",
            (trial_id,),
        ).fetchall()
        for step, name, value in rows:
            result.setdefault("step", {})[step] = None
            result.setdefault(name, []).append(np.nan if value is None else value)
        for _step, name, data in self.db.execute(
            "SELECT step, name, data FROM history_vectors WHERE trial_id = ? ORDER BY name, step",
            (trial_id,),
        ):
            result.setdefault(name, []).append(np.frombuffer(data, "<f8"))
        if "step" in result:
            result["step"] = np.asarray(sorted(result["step"]))
        return {k: v if k == "step" else np.asarray(v) for k, v in result.items()}

    def merge(self, other: Store, ids: Iterable[str] | None = None) -> MergeSummary:
        """Copy ``other``'s trials (with their histories; only those in ``ids`` if given) that
        this store lacks, in one transaction: how shards of one study, run apart, come
        together. A trial id names its whole config, so equal ids are the same trial: a
        finished trial replaces a failed one, and of two finished ones this store's is kept;
        ``differ`` lists those whose metrics disagree (the engine is deterministic, so a
        difference means other code or hardware). The study meta is copied only where this
        store has none."""
        wanted = None if ids is None else set(ids)
        mine = {
            tid: (status, json.loads(metrics))
            for tid, status, metrics in self.db.execute(
                "SELECT trial_id, status, metrics FROM trials"
            )
        }
        summary = MergeSummary()
        take = []
        for row in trial_rows(other.db):
            tid, status, metrics = row["trial_id"], row["status"], json.loads(row["metrics"])
            if wanted is not None and tid not in wanted:
                continue
            if tid not in mine:
                summary.added += 1
            elif mine[tid][0] == "failed" and status != "failed":
                summary.replaced += 1
            else:
                summary.kept += 1
                text = json.dumps(metrics, sort_keys=True)  # as JSON text: NaN equals NaN
                mine_text = json.dumps(mine[tid][1], sort_keys=True)
                if "failed" not in (status, mine[tid][0]) and text != mine_text:
                    summary.differ.append(tid)
                continue
            take.append(row)
        with self.db:
            for row in take:
                tid = row["trial_id"]
                insert_trial(self.db, row, replace=True)
                for table in ("history", "history_vectors"):
                    self.db.execute(f"DELETE FROM {table} WHERE trial_id = ?", (tid,))
                    rows = other.db.execute(f"SELECT * FROM {table} WHERE trial_id = ?", (tid,))
                    self.db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", rows)
            for key in ("study", "trial_ids"):
                value = other.meta(key)
                if value is not None and self.meta(key) is None:
                    self.db.execute("INSERT INTO meta VALUES (?, ?)", (key, json.dumps(value)))
        return summary

    def counts(self, ids: Iterable[str] | None = None) -> dict[str, int]:
        """Stored trials per status (converged, max_steps, failed, …): of those in ``ids`` if
        given (a study's own trials; a store may also hold an earlier grid's), else of all."""
        rows = self.db.execute("SELECT trial_id, status FROM trials")
        wanted = None if ids is None else set(ids)
        return dict(Counter(s for tid, s in rows if wanted is None or tid in wanted))
