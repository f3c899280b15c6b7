"""The results store's SQLite schema: one place for the tables and the ``trials`` columns, read
and written by the store (:mod:`.store`) and its archives (:mod:`.archive`) alike."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    trial_id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    metrics TEXT NOT NULL,
    steps INTEGER,
    wall_s REAL,
    batch_size INTEGER,
    version TEXT,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    trial_id TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, value REAL,
    PRIMARY KEY (trial_id, name, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history_vectors (
    trial_id TEXT NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (trial_id, name, step)
) WITHOUT ROWID;
"""

TRIAL_COLUMNS = (
    "trial_id",
    "config",  # JSON text, keys sorted
    "status",
    "error",
    "metrics",  # JSON text
    "steps",
    "wall_s",
    "batch_size",
    "version",
    "finished_at",
)


def trial_rows(db: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every row of ``trials`` as a dict of its columns (JSON still as text), in insertion
    order."""
    for row in db.execute(f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials ORDER BY rowid"):
        yield dict(zip(TRIAL_COLUMNS, row, strict=True))


def insert_trial(db: sqlite3.Connection, row: dict[str, Any], *, replace: bool = False) -> None:
    """Insert one ``trials`` row from a dict of its columns; an existing ``trial_id`` is an
    ``sqlite3.IntegrityError`` unless ``replace``."""
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    db.execute(
        f"{verb} INTO trials ({', '.join(TRIAL_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(TRIAL_COLUMNS))})",
        tuple(row[c] for c in TRIAL_COLUMNS),
    )
