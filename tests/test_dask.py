"""The Dask executor against a real LocalCluster on 127.0.0.1 (workers are processes)."""

import os
import signal

import pytest

import algoreg as ar
from algoreg.studies import load_study

distributed = pytest.importorskip("distributed")

STUDY = """
name = "dask-tiny"
n_seeds = 8
[problem]
shape = [10, 10]
rank = 1
n_obs = 50
[model]
depth = 2
init_scale = 1e-2
[optimizer]
learning_rate = 1e-2
[train]
max_steps = 2000
log_every = 500
"""


@pytest.fixture
def client():
    ar.studies.pin_threads()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_dask_study_survives_a_killed_worker(tmp_path, client):
    study = load_study(text=STUDY)
    pids = client.run(os.getpid)
    killed = []

    def kill_one(record):
        if not killed:
            addr, pid = next(iter(pids.items()))
            os.kill(pid, signal.SIGKILL)
            killed.append(addr)

    summary = ar.studies.run_study(
        study, tmp_path, scheduler=client, progress=False, on_record=kill_one
    )
    assert killed
    assert summary.ran == 8 and summary.counts == {"max_steps": 8}
    with ar.studies.Store(tmp_path) as store:
        rows = store.trials()
    assert len(rows) == len({r["trial_id"] for r in rows}) == 8
    # same numbers as in-process
    serial = ar.studies.run_study(study, tmp_path / "serial", jobs=1, progress=False)
    assert serial.ran == 8
    with ar.studies.Store(tmp_path / "serial") as store:
        expected = {r["trial_id"]: r["metrics"]["test_error"] for r in store.trials()}
    assert {r["trial_id"]: r["metrics"]["test_error"] for r in rows} == expected
