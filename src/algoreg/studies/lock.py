"""One writer per study directory: an exclusive lock held while ``run`` or ``merge`` writes.

Two ``algoreg run`` processes on one directory would both run every pending trial (each skips
only what was stored when it started) and the last writer would silently win. The lock is an
``flock`` on ``DIR/run.lock``, so the operating system releases it when its holder dies,
however it died (``kill -9``, the OOM killer): a stale lock never blocks a resumed run. The
file holds the holder's pid, host and start time for the error message.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConfigError

LOCK_NAME = "run.lock"


class StudyBusy(ConfigError):
    """Another process is writing this study directory."""


@contextlib.contextmanager
def writer_lock(directory: str | Path, what: str = "run") -> Iterator[None]:
    """Hold the study directory's writer lock for the block, or raise :class:`StudyBusy`
    naming the process that holds it. Where ``fcntl`` is missing (Windows) nothing is
    locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = Path(directory) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the study's lock file ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudyBusy(f"{directory}: {_holder(fd)}") from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "what": what,
            "since": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        info = {}
    who = (
        f"process {info['pid']} on {info['host']} ({info.get('what', 'run')} since {info['since']})"
        if {"pid", "host", "since"} <= info.keys()
        else "another process"
    )
    return (
        f"{who} is writing this study directory; wait for it to finish (a rerun then skips "
        "every trial it stored), or write to another directory with --out and combine the two "
        "with `algoreg merge`"
    )


__all__ = ["LOCK_NAME", "StudyBusy", "writer_lock"]
