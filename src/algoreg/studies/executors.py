"""Run a study: expand, skip what the store has, batch, execute, store as trials finish.

Executors: in-process (``jobs=1``), a local process pool (``jobs>1``; spawned workers with
BLAS/XLA pinned to one thread each), or a Dask distributed cluster (``scheduler=ADDRESS``, or
a ``distributed.Client``). Local workers start a batch only while its estimated peak memory
(``grid.estimated_memory``) fits beside the running ones in the memory available when the run
starts, so e.g. two large nuclear-norm sensing solves never overlap. In every case the
coordinating process is the only writer of the store, writing one transaction per finished
trial, so an interrupted study resumes where it stopped: finished trials are skipped, never
duplicated.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MemoryWarning
from .config import MAX_TRIALS, Study
from .grid import Trial, estimated_cost, estimated_memory, expand, make_batches, select
from .lock import writer_lock
from .processes import start_pool, stop_pool, submit
from .runner import run_batch
from .store import Store, prepare_directory

PINNED_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def pin_threads() -> None:
    """One BLAS/XLA thread for this process and the workers it starts (set before they load
    NumPy/JAX): measured 5–100× faster than default threading on a busy 2-core box."""
    for key, value in PINNED_ENV.items():
        if key == "XLA_FLAGS":
            flags = os.environ.get(key, "")
            if "xla_cpu_multi_thread_eigen" not in flags:
                os.environ[key] = f"{flags} {value}".strip()
        else:
            os.environ.setdefault(key, value)


class WorkerLost(RuntimeError):
    """A local worker process died (e.g. out of memory); finished trials are stored."""


@dataclass
class RunSummary:
    total: int
    skipped: int
    deferred: int = 0  # pending trials left out by ``only``
    ran: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    failed: int = 0  # of the trials run now
    first_error: str | None = None  # the first failed trial's id and error


def run_study(
    study: Study,
    out: str | Path,
    *,
    jobs: int | None = None,
    scheduler: Any = None,
    batch_size: int | None = None,
    retry_failed: bool = False,
    progress: bool | None = None,
    on_record: Callable[[dict], None] | None = None,
    only: Sequence[tuple[str, Any]] = (),
    max_trials: int | None = MAX_TRIALS,
) -> RunSummary:
    """Run every trial of ``study`` not yet in the store at ``out``; return a summary.

    ``only``: run just the trials matching these ``(dotted key, value or list)`` pairs
    (:func:`.grid.select`), leaving the rest for a later run; the store still records the
    whole study, so ``status`` and reports count them as pending.

    ``jobs``: worker processes (default: CPU count; 1 = in-process). ``scheduler``: a Dask
    scheduler address or ``distributed.Client`` (then ``jobs`` is ignored; an address is
    connected to before anything is written, and one that cannot be reached is a
    :class:`ConfigError`). ``batch_size``:
    trials per engine batch (default: the study's ``batch_size``, else 1 on CPU, where one
    trial per core is as fast as batching, and 64 on an accelerator). ``max_trials``: refuse
    a grid larger than this before resolving it (None: no limit).

    The directory's writer lock (:mod:`.lock`) is held throughout: a second run of the same
    directory is refused with :class:`~.lock.StudyBusy` instead of duplicating the work.
    """
    t0 = time.perf_counter()
    pin_threads()
    trials = expand(study, max_trials=max_trials)
    chosen = {t.trial_id for t in select(trials, only)}  # before the store: a bad --only
    out = Path(out)
    client, own_client = connect(scheduler) if scheduler is not None else (None, False)
    try:  # a scheduler that cannot be reached fails above, before a directory exists
        prepare_directory(out)
        with writer_lock(out), Store(out) as store:
            return _run_pending(
                study, trials, chosen, store, jobs, client, batch_size, retry_failed,
                progress, on_record, t0,
            )  # fmt: skip
    finally:
        if own_client and client is not None:
            client.close()


def _run_pending(
    study: Study,
    trials: list[Trial],
    chosen: set[str],
    store: Store,
    jobs: int | None,
    client: Any,
    batch_size: int | None,
    retry_failed: bool,
    progress: bool | None,
    on_record: Callable[[dict], None] | None,
    t0: float,
) -> RunSummary:
    held = (store.meta("study") or {}).get("name")
    if held is not None and held != study.name:
        raise ConfigError(
            f"{store.directory}: holds the study {held!r}, not {study.name!r}; write this study "
            f"to its own directory (e.g. --out runs/{study.name})"
        )
    store.set_meta("study", study.to_dict())
    store.set_meta("study_text", study.text)
    store.set_meta("trial_ids", [t.trial_id for t in trials])
    done = store.finished_ids(include_failed=not retry_failed)
    left = [t for t in trials if t.trial_id not in done]
    pending = [t for t in left if t.trial_id in chosen]
    total = len(trials)
    summary = RunSummary(total, total - len(left), deferred=len(left) - len(pending))
    size = batch_size or study.batch_size or _default_batch_size()
    batches = make_batches(pending, size)
    by_id = {t.trial_id: t for t in pending}
    bar = _Progress(study.name, total - summary.deferred, summary.skipped, progress)
    try:
        for records in _execute(batches, jobs, client):
            for rec in records:
                store.write(by_id[rec["trial_id"]].config, rec)
                summary.ran += 1
                if rec["status"] == "failed":
                    summary.failed += 1
                    if summary.first_error is None:
                        summary.first_error = f"{rec['trial_id']}: {rec['error']}"
                bar.advance(rec["status"])
                if on_record:
                    on_record(rec)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
    summary.counts = store.counts(t.trial_id for t in trials)
    summary.seconds = time.perf_counter() - t0
    return summary


def _default_batch_size() -> int:
    try:
        import jax

        return 1 if jax.default_backend() == "cpu" else 64
    except Exception:  # pragma: no cover
        return 1


def _payload(batch: list[Trial]) -> list[tuple[str, dict]]:
    return [(t.trial_id, t.config) for t in batch]


def longest_first(batches: list[list[Trial]]) -> list[list[Trial]]:
    """Batches by estimated cost, largest first (stable): with parallel workers, a grid then
    ends on its short trials instead of waiting for one long trial started last."""
    return sorted(batches, key=lambda b: -sum(estimated_cost(t.config) for t in b))


def memory_budget(share: float = 0.9) -> float | None:
    """Bytes the workers of this run may use: ``share`` of ``MemAvailable`` in /proc/meminfo,
    or of the room left under a cgroup-v2 memory limit when that is smaller; None where neither
    can be read (not Linux)."""
    found = []
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(float(line.split()[1]) * 1024)
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = float(Path("/sys/fs/cgroup/memory.current").read_text())
            found.append(float(limit) - used)
    return share * min(found) if found else None


def batch_memory(batch: list[Trial]) -> float:
    """Estimated peak bytes of a worker running ``batch`` (its largest trial)."""
    return max(estimated_memory(t.config) for t in batch)


def next_fitting(needs: list[float], in_use: float, budget: float | None) -> int | None:
    """Index of the first pending batch whose estimated memory fits beside the running ones
    (any batch when nothing runs, so a run always progresses); None when none fits."""
    for i, need in enumerate(needs):
        if budget is None or in_use == 0 or in_use + need <= budget:
            return i
    return None


def _describe(config: dict[str, Any]) -> str:
    problem = config.get("problem")
    if not problem:
        return config["model"]["kind"]
    size = "×".join(str(d) for d in problem.get("shape") or ())
    return f"{config['model']['kind']} on {size} {problem['kind']}, n_obs {problem.get('n_obs')}"


def warn_oversized(batches: list[list[Trial]], budget: float | None) -> None:
    """Warn, before anything runs, about trials estimated to need more memory than is free."""
    if budget is None:
        return
    big = [(need, b) for b in batches if (need := batch_memory(b)) > budget]
    if big:
        need, first = max(n for n, _ in big), big[0][1][0]
        warnings.warn(
            f"{len(big)} batch(es) of this study are estimated to need up to {need / 1e9:.1f} GB "
            f"(e.g. trial {first.trial_id}: {_describe(first.config)}), more than the "
            f"{budget / 1e9:.1f} GB available now; each runs with no other batch beside it and "
            "may still run out of memory",
            MemoryWarning,
            stacklevel=3,
        )


def run_bounded(
    submit: Callable[[list[Trial]], cf.Future],
    batches: list[list[Trial]],
    jobs: int,
    budget: float | None,
) -> Iterator[cf.Future]:
    """Submit ``batches`` in order, at most ``jobs`` at a time and, while any runs, only those
    whose estimated memory (``batch_memory``) fits in ``budget`` beside the running ones (a
    batch that does not fit waits; later ones that fit go ahead); yield futures as they
    finish. Cancelling the generator leaves the caller to shut the pool down."""
    pending = list(batches)
    needs = [batch_memory(b) for b in pending]
    running: dict[cf.Future, float] = {}
    while pending or running:
        while pending and len(running) < jobs:
            i = next_fitting(needs, sum(running.values()), budget)
            if i is None:
                break
            running[submit(pending.pop(i))] = needs.pop(i)
        done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        for fut in done:
            running.pop(fut)
            yield fut


def _execute(batches: list[list[Trial]], jobs: int | None, client: Any) -> Iterator[list[dict]]:
    if not batches:
        return
    batches = longest_first(batches) if client is not None or jobs != 1 else batches
    if client is not None:
        yield from _execute_dask(batches, client)
        return
    budget = memory_budget()
    warn_oversized(batches, budget)
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(batches) == 1:
        for batch in batches:
            yield run_batch(_payload(batch))
        return
    ctx = multiprocessing.get_context("spawn")  # JAX is not fork-safe
    pool = start_pool(min(jobs, len(batches)), ctx)
    try:
        for fut in run_bounded(
            lambda b: submit(pool, run_batch, _payload(b)), batches, jobs, budget
        ):
            try:
                yield fut.result()
            except cf.process.BrokenProcessPool as exc:
                raise WorkerLost(f"a worker process died ({exc}); rerun to resume") from exc
    except BaseException:  # interrupted or closed early: do not wait for batches in flight
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def connect(scheduler: Any, timeout: float = 10.0) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``scheduler`` (an address, or a client, returned as is)
    and whether it was made here (then the caller closes it). An address that is malformed
    or that no scheduler answers within ``timeout`` seconds is a :class:`ConfigError`."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - optional extra
        raise ConfigError("--scheduler needs Dask: pip install 'algoreg[dask]'") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ConfigError(
            f"--scheduler must be a Dask scheduler address such as tcp://HOST:8786, got "
            f"{scheduler!r}"
        )
    try:
        return Client(scheduler, timeout=timeout), True
    except Exception as exc:  # OSError, TimeoutError, ValueError from the address parser
        raise ConfigError(
            f"--scheduler {scheduler}: no Dask scheduler could be reached there within "
            f"{timeout:g} s ({type(exc).__name__}: {exc}); give the address a running "
            "scheduler prints, e.g. tcp://HOST:8786"
        ) from None


def _execute_dask(batches: list[list[Trial]], client: Any) -> Iterator[list[dict]]:
    from distributed import as_completed

    # pure=False: every batch runs even if an identical payload ran before
    futures = [client.submit(run_batch, _payload(b), pure=False) for b in batches]
    try:
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.cancel(futures)


class _Progress:
    """A rich progress bar on a terminal; a final line only otherwise (CI logs stay short)."""

    def __init__(self, name: str, total: int, done: int, enabled: bool | None) -> None:
        self.live = sys.stderr.isatty() if enabled is None else enabled
        self.counts: dict[str, int] = {}
        self.t0 = time.perf_counter()
        self.total, self.skipped = total, done
        self.bar = None
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self.task = self.bar.add_task(name, total=total, completed=done, detail="")
            self.bar.start()

    def advance(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        if self.bar is not None:
            ran = sum(self.counts.values())
            rate = ran / max(time.perf_counter() - self.t0, 1e-9)
            failed = self.counts.get("failed", 0) + self.counts.get("diverged", 0)
            detail = f"failed/diverged {failed}  {rate:.2f} trials/s"
            self.bar.update(self.task, advance=1, detail=detail)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
