"""The local pool's workers end with their coordinator, however it ends, and a signal that
lands while the pool starts a worker still stops everything at once."""

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_cli import _children, _running, write

from algoreg.studies.processes import deferred_signals

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.time() + seconds
    while time.time() < deadline and any(_running(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if _running(p)]


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_workers_end_when_their_coordinator_is_killed(tmp_path):
    """``kill -9`` of the coordinator (an OOM killer, a scheduler's SIGKILL) used to leave the
    spawned workers and the resource tracker running, adopted by PID 1, indefinitely."""
    study = write(tmp_path, seeds=2, steps=100_000_000, extra="tol = 0\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "algoreg", "run", study, "--out", tmp_path / "out", "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(_children(proc.pid)) < 3:
        time.sleep(0.2)  # a resource tracker and two workers
    time.sleep(3)  # the workers are past their start and computing
    family = _descendants(proc.pid)
    assert proc.poll() is None and len(family) >= 3, "no running pool to kill"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = _wait_gone(family, 30)
    _kill(left)
    assert not left, "worker processes outlived their killed coordinator"


def test_deferred_signals_act_after_the_block():
    ran = []
    with pytest.raises(KeyboardInterrupt), deferred_signals():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        ran.append("the rest of the block")
    assert ran == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with deferred_signals():  # nothing arrived: nothing happens
        pass


WINDOW = """
    import multiprocessing.process as mp
    import os, signal, sys, time

    start = mp.BaseProcess.start

    def start_then_signal(self):
        start(self)
        if self.name.endswith("-2"):  # the pool's second worker: started, not yet recorded
            time.sleep(12)  # it is up and waiting for work
            os.kill(os.getpid(), signal.{sig})

    if __name__ == "__main__":
        mp.BaseProcess.start = start_then_signal
        from algoreg.cli import main

        sys.exit(main(["run", sys.argv[1], "--out", sys.argv[2], "--jobs", "2"]))
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_while_the_pool_starts_a_worker_still_stops_the_run(tmp_path, sig):
    """A signal between a worker's start and the pool's record of it left a worker that no
    one stopped and that the interpreter's exit waited for: the coordinator never exited
    (the cause of "did not exit within 60 s of the signal" on a busy machine)."""
    study = write(tmp_path, seeds=2, steps=100_000_000, extra="tol = 0\n")
    script = tmp_path / "window.py"
    script.write_text(textwrap.dedent(WINDOW).replace("{sig}", sig))
    proc = subprocess.Popen(
        [sys.executable, script, study, tmp_path / "out"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    family: list[int] = []
    try:
        deadline = time.time() + 150
        while time.time() < deadline and proc.poll() is None:
            family = sorted(set(family) | set(_descendants(proc.pid)))
            time.sleep(0.2)
        assert proc.poll() is not None, "the coordinator did not exit after the signal"
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
        left = _wait_gone(family, 20)
        _kill(left)
    assert proc.returncode == 130, err
    assert "interrupted; rerun the same command to resume" in err
    assert not left, "worker processes outlived the coordinator"
