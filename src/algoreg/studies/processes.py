"""The local worker pool's lifetime: workers never outlive their coordinator, and a signal
never lands while the pool is half-changed.

- **Workers end with their coordinator**, whatever ended it. Only the coordinator writes the
  store, so a worker whose coordinator is gone computes results nobody can store; left alone,
  spawned workers were adopted by PID 1 after a ``kill -9`` (an OOM killer, a batch
  scheduler's SIGKILL) and ran on, ≈ 320 MB each, with the resource tracker. Each worker
  watches its parent's pid from a daemon thread and exits once it has changed; the resource
  tracker then sees its last pipe close and exits too.
- **Signals are deferred while the pool spawns or is handed work.** ``ProcessPoolExecutor``
  starts a worker inside ``submit``; a Ctrl-C or SIGTERM arriving between the worker's start
  and the pool's record of it left a process that ``stop_pool`` could not see, and that the
  interpreter's exit then waited for (it joins every non-daemon child): on a busy machine the
  coordinator took over a minute, or forever, to stop. :func:`deferred_signals` holds SIGINT
  and SIGTERM for those few milliseconds and acts on them right after.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def deferred_signals(signums: tuple[int, ...] = DEFERRED) -> Iterator[None]:
    """Run the block with ``signums`` held back, then act on the first one that arrived as
    its handler from before the block would have (SIGINT: ``KeyboardInterrupt``; a default
    disposition: the default action). Off the main thread, where Python delivers no signal,
    the block just runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for signum in signums:
        handler = signal.getsignal(signum)
        if handler is None:  # set outside Python: cannot be restored, so leave it alone
            continue
        previous[signum] = handler
        signal.signal(signum, lambda s, _frame: caught.append(s))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            first, handler = caught[0], previous[caught[0]]
            if callable(handler):
                handler(first, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), first)


def watch_parent(parent: int, interval: float = 0.5) -> None:
    """Worker initializer: exit this process (at once, status 1) as soon as its parent is no
    longer ``parent``: the coordinator died and the worker was re-parented."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="algoreg-watch-parent", daemon=True).start()


def start_pool(workers: int, context) -> cf.ProcessPoolExecutor:
    """A process pool whose workers end with this process (:func:`watch_parent`)."""
    with deferred_signals():
        return cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=watch_parent,
            initargs=(os.getpid(),),
        )


def submit(pool: cf.ProcessPoolExecutor, fn, *args) -> cf.Future:
    """``pool.submit`` with signals deferred (it may start a worker: see the module note)."""
    with deferred_signals():
        return pool.submit(fn, *args)


def stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Shut ``pool`` down now, terminating its workers: the batches they run would never be
    stored (only the coordinator writes), and left running they would hold the cores and keep
    the interpreter from exiting (it joins the pool's threads) until they finish."""
    # the pool's own process table (private; Python 3.14 adds terminate_workers() for this)
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        if proc.is_alive():
            proc.terminate()
    for proc in workers:
        proc.join(timeout=10)


__all__ = ["deferred_signals", "start_pool", "stop_pool", "submit", "watch_parent"]
