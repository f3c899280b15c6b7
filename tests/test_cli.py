"""The command line end to end, in subprocesses (as a user runs it)."""

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from algoreg.cli import main

STUDY = """
name = "cli-tiny"
n_seeds = {seeds}

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
max_steps = {steps}
log_every = 100
"""


@contextlib.contextmanager
def connect(path, **kw):
    """``sqlite3.connect``'s own block commits but leaves the connection open (Python 3.13
    warns when it is collected unclosed): this one commits, then closes."""
    with contextlib.closing(sqlite3.connect(path, **kw)) as con, con:
        yield con


def write(tmp_path, seeds=2, steps=200, extra=""):
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(seeds=seeds, steps=steps) + extra)
    return path


def algoreg(*args, timeout=300, **kw):
    return subprocess.run(
        [sys.executable, "-m", "algoreg", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def test_run_status_results_plot_export(tmp_path):
    study = write(tmp_path, extra='[grid]\n"model.depth" = [1, 2]\n')
    out = tmp_path / "out"
    r = algoreg("run", study, "--out", out, "--jobs", "1")
    assert r.returncode == 0, r.stderr
    assert "4 trials, 0 already stored, 4 run now" in r.stdout
    r = algoreg("status", out)
    assert "cli-tiny: 4 trials: done 4, failed 0, pending 0" in r.stdout
    import jax  # each trial records the software it ran with; status lists it

    from algoreg import __version__
    from algoreg.studies.runner import software

    assert software().startswith(f"algoreg {__version__}, jax {jax.__version__}, jaxlib ")
    assert f"\n  ran with {software()}: 4 trials\n" in r.stdout
    r = algoreg("results", out, "--format", "json")
    rows = json.loads(r.stdout)
    assert len(rows) == 4 and {row["model.depth"] for row in rows} == {1, 2}
    assert all(0 < row["test_error"] <= 1.5 for row in rows)
    r = algoreg("results", out, "--format", "csv", "--columns", "model.depth,test_error")
    assert r.stdout.splitlines()[0] == "model.depth,test_error" and len(r.stdout.split()) == 5
    r = algoreg("results", out, "--columns", "test_eror")
    assert r.returncode == 2 and "unknown column 'test_eror'; did you mean 'test_error'" in r.stderr
    r = algoreg("plot", out, "--x", "model.depth", "--hue", "problem.n_obs")
    assert r.returncode == 0, r.stderr
    assert (out / "figure.png").stat().st_size > 1000
    r = algoreg("export", out, "--parquet", tmp_path / "r.parquet")
    assert r.returncode == 0, r.stderr
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "r.parquet")) == 4


def test_dry_run_lists_trials(tmp_path, capsys):
    assert main(["run", str(write(tmp_path, seeds=3)), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "cli-tiny: 3 trials" and len(lines) == 4
    assert "problem.n_obs=50" in lines[1]


def test_only_runs_part_of_the_grid_and_keeps_the_rest_pending(tmp_path, capsys):
    study = str(write(tmp_path, extra='[grid]\n"model.depth" = [1, 2]\n'))
    out = str(tmp_path / "out")
    assert main(["run", study, "--only", "model.depth=2", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "cli-tiny: 4 trials, 2 chosen by --only" and len(lines) == 3
    assert all("model.depth=2" in line for line in lines[1:])
    assert main(["run", study, "--only", "model.depth=2", "--out", out, "--jobs", "1"]) == 0
    assert ", 2 left for later by --only -> " in capsys.readouterr().out
    assert main(["status", out]) == 0  # the store still describes the whole study
    assert "cli-tiny: 4 trials: done 2, failed 0, pending 2" in capsys.readouterr().out
    assert main(["run", study, "--only", "seed=[0,1]", "--out", out, "--jobs", "1"]) == 0
    said = capsys.readouterr().out
    assert "4 trials, 2 already stored, 2 run now" in said and "left for later" not in said
    assert main(["run", study, "--only", "model.depth=3", "--out", out]) == 2
    assert "model.depth takes the values 1, 2" in capsys.readouterr().err
    bad = str(tmp_path / "never")
    assert main(["run", study, "--only", "model.dpth=1", "--out", bad]) == 2
    assert not Path(bad).exists()  # nothing written for a bad selection


def test_output_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    study = write(tmp_path, seeds=3000)  # a dry run prints about 1.5 MB, far past a pipe buffer
    proc = subprocess.Popen(
        [sys.executable, "-m", "algoreg", "run", str(study), "--dry-run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b"cli-tiny: 3000 trials")
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141 and err == ""
    # output small enough to sit in stdout's buffer until the command is done (block-buffered:
    # without PYTHONUNBUFFERED), into a reader that is already gone (`| true`)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "algoreg", "reproduce", "--list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141 and err == ""


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("rank = 1", "problem.rnak: unknown key"),
        ("[", "not valid TOML"),
        ('[grid]\n"model.depth" = []', "non-empty list"),
    ],
)
def test_bad_study_gives_one_error_line_and_exit_2(tmp_path, content, match):
    path = tmp_path / "bad.toml"
    base = STUDY.format(seeds=1, steps=10)
    bad = base.replace("rank = 1", "rnak = 1") if content == "rank = 1" else base + content
    path.write_text(bad)
    r = algoreg("run", path, "--dry-run")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("algoreg: error: ") and match in lines[0]
    assert str(path) in lines[0]
    r = algoreg("run", tmp_path / "nope.toml")
    assert r.returncode == 2 and "no such study file" in r.stderr


def test_status_of_a_directory_without_results(tmp_path):
    r = algoreg("status", tmp_path)
    assert r.returncode == 2 and "no study results here" in r.stderr


def test_sigkill_mid_study_then_resume(tmp_path):
    study = write(tmp_path, seeds=24, steps=3000)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "algoreg",
            "run",
            str(study),
            "--out",
            str(out),
            "--jobs",
            "1",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    db = out / "results.sqlite"
    deadline = time.time() + 240
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with connect(db, timeout=5) as con:
                    stored = con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
            if stored >= 3:
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the study finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    with connect(db) as con:
        before = dict(con.execute("SELECT trial_id, finished_at FROM trials").fetchall())
    assert 3 <= len(before) < 24
    r = algoreg("run", study, "--out", out, "--jobs", "1", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert f"24 trials, {len(before)} already stored, {24 - len(before)} run now" in r.stdout
    with connect(db) as con:
        after = dict(con.execute("SELECT trial_id, finished_at FROM trials").fetchall())
        n_rows = con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        logged = dict(
            con.execute(
                "SELECT trial_id, COUNT(*) FROM history WHERE name = 'train_loss' GROUP BY trial_id"
            ).fetchall()
        )
        steps = dict(con.execute("SELECT trial_id, steps FROM trials").fetchall())
    assert n_rows == len(after) == 24
    assert all(after[t] == before[t] for t in before)  # finished trials were not run again
    # every trial's history exactly once: log points 0, 100, …, plus the final step
    assert logged == {t: 1 + -(-s // 100) for t, s in steps.items()}


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_to_coordinator_stops_its_workers(tmp_path, sig):
    """A signal to the coordinator alone (kill, a scheduler's time limit) ends the run at once
    with the resume message, and takes the pool's workers with it: their trials would never be
    stored, and left running they held the exit until they finished."""
    study = write(tmp_path, seeds=2, steps=100_000_000, extra="tol = 0\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "algoreg", "run", study, "--out", tmp_path / "out", "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(_children(proc.pid)) < 3:
        time.sleep(0.2)  # a resource tracker and two workers
    workers = _children(proc.pid)
    if proc.poll() is not None or len(workers) < 3:
        proc.kill()  # before reading its output: reading a live process's pipe would block
        pytest.fail(f"no running pool to signal: {proc.communicate()[1]}")
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        pytest.fail("the coordinator did not exit within 60 s of the signal")
    assert proc.returncode == 130, err
    assert "interrupted; rerun the same command to resume" in err
    assert "2 trials, 0 already stored, 0 run now" in out
    time.sleep(1)
    left = [pid for pid in workers if _running(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived the coordinator"


def test_process_pool_matches_in_process(tmp_path):
    study = write(tmp_path, seeds=3)
    for jobs, d in ((1, "serial"), (2, "pool")):
        r = algoreg("run", study, "--out", tmp_path / d, "--jobs", jobs, "--no-progress")
        assert r.returncode == 0, r.stderr
    got = {}
    for d in ("serial", "pool"):
        r = algoreg("results", tmp_path / d, "--format", "json")
        got[d] = {row["trial_id"]: row["test_error"] for row in json.loads(r.stdout)}
    assert got["serial"] == got["pool"]


def test_reproduce_list():
    r = algoreg("reproduce", "--list")
    assert r.returncode == 0
    assert {"arora2019-completion", "razin2020", "deephoyer-digits"} <= set(r.stdout.split())
    r = algoreg("reproduce", "arora2019-complet")
    assert r.returncode == 2 and "did you mean 'arora2019-completion'" in r.stderr.lower()


def test_report_writes_markdown_with_claim_table_and_figure(tmp_path):
    check = '[[report.checks]]\nsays = "depth 2 beats depth 1"\nrows = ["depth 2 adam"]\n'
    check += 'than = "depth 1 adam"\nat_most = 1.0\n'
    study = write(tmp_path, extra='[grid]\n"model.depth" = [1, 2]\n' + check)
    study.write_text('claim = "depth helps"\n' + study.read_text())
    out = tmp_path / "out"
    assert algoreg("run", study, "--out", out, "--jobs", "1").returncode == 0
    md = tmp_path / "docs" / "results.md"
    r = algoreg("report", out, "--out", md)
    assert r.returncode == 0, r.stderr
    page = md.read_text()
    assert "## cli-tiny" in page and "**Paper says:** depth helps" in page
    assert "**We measured:** lowest mean test error: at 50 observations depth" in page
    assert "| depth 1 adam | 50 |" in page and "| depth 2 adam | 50 |" in page
    assert "![cli-tiny](figures/cli-tiny.png)" in page
    verdict = re.search(r"- (agrees|disagrees): depth 2 beats depth 1 \(depth 2 adam ", page)
    assert "**Checked against the claim:**" in page and verdict
    # the page opens with every check's verdict, before the sections
    glance = f"| [cli-tiny](#cli-tiny) | depth 2 beats depth 1 | {verdict.group(1)} |"
    assert f"1 claim check: 1 {verdict.group(1)}." in page
    assert page.index("## At a glance") < page.index(glance) < page.index("## cli-tiny")
    # a claim that is the project's own is introduced as such
    own = '[grid]\n"model.depth" = [1, 2]\n[report]\nclaim_label = "Assumption under test"\n'
    study = write(tmp_path, extra=own)
    study.write_text('claim = "depth helps"\n' + study.read_text())
    assert algoreg("run", study, "--out", tmp_path / "own", "--jobs", "1").returncode == 0
    assert algoreg("report", tmp_path / "own", "--out", md).returncode == 0
    assert "**Assumption under test:** depth helps" in md.read_text()
    # the trials' summed wall time, from the store (two trials, each well under a minute)
    summed = re.search(r"trial time summed over trials: ([0-9.]+) s;", page)
    assert summed and 0 < float(summed.group(1)) < 120
    assert (tmp_path / "docs" / "figures" / "cli-tiny.png").stat().st_size > 1000
    r = algoreg("report", tmp_path / "nothing", "--out", md)
    assert r.returncode == 2 and "no study results here" in r.stderr
    # archives: a missing one is named before any work; a corrupt one (read once, by the
    # report) gets the archive reader's error, and the page written before stays as it was
    before = md.read_text()
    r = algoreg("report", out, tmp_path / "missing.jsonl.gz", "--out", md)
    assert r.returncode == 2 and "missing.jsonl.gz: no such archive file" in r.stderr
    (tmp_path / "bad.jsonl").write_text("not json\n")
    r = algoreg("report", out, tmp_path / "bad.jsonl", "--out", md)
    assert r.returncode == 2 and "bad.jsonl: not an algoreg archive" in r.stderr
    assert md.read_text() == before


def test_report_marks_a_study_with_unfinished_trials_as_partial(tmp_path):
    check = '[[report.checks]]\nsays = "small"\nrows = ["depth 1 adam", "depth 2 adam"]\n'
    check += "at_most = 10.0\n"
    study = write(tmp_path, seeds=1, extra='[grid]\n"model.depth" = [1, 2]\n' + check)
    out, md = tmp_path / "out", tmp_path / "results.md"
    assert algoreg("run", study, "--out", out, "--jobs", "1").returncode == 0
    with connect(out / "results.sqlite") as db:  # as if interrupted before the last
        db.execute("DELETE FROM trials WHERE trial_id = (SELECT MAX(trial_id) FROM trials)")
    assert algoreg("report", out, "--out", md).returncode == 0
    page = md.read_text()
    assert "Trials: 1 (" in page and "**Partial:** 1 of the study's 2 trials" in page
    assert "**Checked against the claim (on the finished trials only):**" in page
    assert "| [cli-tiny](#cli-tiny) (partial) | small | agrees |" in page
    assert algoreg("run", study, "--out", out, "--jobs", "1").returncode == 0  # resumes
    assert algoreg("report", out, "--out", md).returncode == 0
    page = md.read_text()
    assert "Trials: 2 (" in page and "Partial" not in page and "finished trials only" not in page


def test_reproduce_razin2020_history_report(tmp_path):
    """The unobserved entry grows while the loss falls (Razin & Cohen 2020), and the preset
    writes its table and history figure."""
    out = tmp_path / "razin"
    r = algoreg(
        "reproduce", "razin2020", "--quick", "--out", out, "--jobs", "1",
        "--set", "train.max_steps=40000", "--set", "train.log_every=4000",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "unobserved_abs_max_mean" in r.stdout
    assert (out / "figure.png").stat().st_size > 1000
    # beside them, the study's section as Markdown and its self-contained HTML page
    assert "](figure.png)" in (out / "report.md").read_text()
    page = (out / "report.html").read_text("utf-8")
    assert "<script src" not in page and page.count('class="study-data"') == 1
    assert "unobserved_abs_max" in page
    # `plot` with no columns draws the study's own figure (a history plot, no problem.n_obs)
    drawn = (out / "figure.png").read_bytes()
    (out / "figure.png").unlink()
    r = algoreg("plot", out)
    assert r.returncode == 0, r.stderr
    assert (out / "figure.png").read_bytes() == drawn
    r = algoreg("plot", out, "--y", "unobserved_abs_max")
    assert r.returncode == 2 and "unknown column 'problem.n_obs'" in r.stderr
    rows = (out / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("method,train_loss_mean")
    for line in rows[1:]:  # depth 2–4: loss well below its start, |W11| far above 0
        loss, magnitude = float(line.split(",")[1]), float(line.split(",")[3])
        assert loss < 0.01 and magnitude > 5


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--penalties", "foo"], "unknown penalty 'foo'"),
        (["--sizes", "10by10"], "argument --sizes: takes MxN items"),
        (["--sizes", "0x10"], "positive integers such as 100x100, got '0x10'"),
        (["--depths", "-1"], "argument --depths: must be a positive integer (>= 1), got -1"),
    ],
)
def test_bench_rejects_bad_arguments(args, match, capsys):
    assert main(["bench", *args]) == 2
    assert match in capsys.readouterr().err


def test_merge_joins_shards_run_apart(tmp_path, capsys):
    study = write(tmp_path, extra='[grid]\n"model.depth" = [1, 2]\n')
    full, a, b, merged = (tmp_path / d for d in ("full", "a", "b", "merged"))
    assert main(["run", str(study), "--out", str(full), "--jobs", "1", "--no-progress"]) == 0
    for shard, seed in ((a, 0), (b, 1)):  # each shard runs one seed of the same study
        args = ["run", str(study), "--out", str(shard), "--set", f"seeds=[{seed}]"]
        assert main([*args, "--jobs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["merge", str(a), str(b), "--into", str(merged)]) == 0
    out = capsys.readouterr().out
    assert f"{a}: 2 trials added, 0 failed ones replaced, 0 already in {merged}" in out
    assert f"{b}: 2 trials added" in out
    # the merged store is the whole study: nothing left to run, histories as in one run
    assert main(["run", str(study), "--out", str(merged), "--jobs", "1", "--no-progress"]) == 0
    assert "4 trials, 4 already stored, 0 run now" in capsys.readouterr().out
    from algoreg.studies import Store

    with Store(full) as f, Store(merged) as m:
        assert {t["trial_id"] for t in f.trials()} == {t["trial_id"] for t in m.trials()}
        for t in f.trials():
            mine, theirs = m.history(t["trial_id"]), f.history(t["trial_id"])
            assert mine.keys() == theirs.keys()
            for key in theirs:  # bit for bit (NaN where no validation split is logged)
                np.testing.assert_array_equal(mine[key], theirs[key])
        tid = f.trials()[0]["trial_id"]
    # the same trials found twice are kept quietly (their NaN val_error included); the shard's
    # study is one seed, so the other seed's trials stay out
    assert main(["merge", str(full), "--into", str(a)]) == 0
    captured = capsys.readouterr()
    assert "0 trials added, 0 failed ones replaced, 2 already in" in captured.out
    assert captured.err == ""
    # a finished trial replaces a failed one; a kept trial with other metrics is named
    with connect(merged / "results.sqlite") as db:
        db.execute("UPDATE trials SET status = 'failed' WHERE trial_id = ?", (tid,))
        db.execute("UPDATE trials SET metrics = '{\"test_error\": 9}' WHERE trial_id != ?", (tid,))
    assert main(["merge", str(full), "--into", str(merged)]) == 0
    captured = capsys.readouterr()
    assert "0 trials added, 1 failed ones replaced, 3 already in" in captured.out
    assert "warning: 3 trials of" in captured.err and "other metrics" in captured.err
    with Store(merged) as m:
        assert next(t for t in m.trials() if t["trial_id"] == tid)["status"] != "failed"
    # into a directory that holds a study: only that study's trials, unless --all
    one = str(tmp_path / "one")
    args = ["run", str(study), "--out", one, "--set", "model.depth=1", "--set", "seeds=[0]"]
    assert main([*args, "--jobs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["merge", str(full), "--into", one]) == 0
    assert "0 trials added, 0 failed ones replaced, 1 already in" in capsys.readouterr().out
    assert main(["merge", str(full), "--into", one, "--all"]) == 0
    assert "3 trials added, 0 failed ones replaced, 1 already in" in capsys.readouterr().out


def test_an_archive_stands_in_for_its_study_directory(tmp_path, capsys):
    study = write(tmp_path, extra='[grid]\n"model.depth" = [1, 2]\n')
    out, archive = tmp_path / "out", tmp_path / "results" / "cli-tiny.jsonl.gz"
    args = ["run", str(study), "--out", str(out), "--set", "seeds=[0]", "--jobs", "1"]
    assert main([*args, "--no-progress"]) == 0
    assert main(["export", str(out), "--archive", str(archive)]) == 0
    assert f"wrote 2 trials with their histories to {archive}" in capsys.readouterr().out
    for command in (["status"], ["results", "--format", "json"]):  # the same answers
        assert main([*command, str(out)]) == 0
        direct = capsys.readouterr().out
        assert main([*command, str(archive)]) == 0
        assert capsys.readouterr().out == direct
    assert main(["plot", str(archive)]) == 0  # beside the archive, named for the study
    assert (tmp_path / "results" / "cli-tiny.png").stat().st_size > 1000
    pages = []
    for source in (out, archive):
        md = tmp_path / str(len(pages)) / "results.md"
        assert main(["report", str(source), "--out", str(md)]) == 0
        pages.append(md.read_text().replace(str(source), "SOURCE"))
    assert "store: `SOURCE`." in pages[0]  # a working directory, by name
    link = f"store: [`SOURCE`](<../results/{archive.name}>)."  # an archive: a link from the page
    assert pages[0].replace("store: `SOURCE`.", link) == pages[1] and "## cli-tiny" in pages[0]
    # resuming from an archive: merge it into a study directory, run the rest of the grid
    again = tmp_path / "again"
    assert main(["merge", str(archive), "--into", str(again)]) == 0
    assert main(["run", str(study), "--out", str(again), "--jobs", "1", "--no-progress"]) == 0
    assert "4 trials, 2 already stored, 2 run now" in capsys.readouterr().out
    # an archive is read-only, and export names what it needs
    assert main(["merge", str(out), "--into", str(archive)]) == 2
    assert "an archive is read-only" in capsys.readouterr().err
    assert main(["run", str(study), "--out", str(archive), "--jobs", "1"]) == 2
    assert "an archive is read-only" in capsys.readouterr().err
    assert main(["export", str(out)]) == 2
    assert "export needs --parquet FILE (a flat table), --archive FILE, or both" in (
        capsys.readouterr().err
    )


def test_merge_errors_name_the_directory(tmp_path, capsys):
    assert main(["merge", str(tmp_path / "nope"), "--into", str(tmp_path / "m")]) == 2
    assert "nope: no study results here" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()  # nothing written
    from algoreg.studies import Store

    Store(tmp_path / "m").close()
    assert main(["merge", str(tmp_path / "m"), "--into", str(tmp_path / "m")]) == 2
    assert "cannot merge a study directory into itself" in capsys.readouterr().err


def test_status_and_results_show_the_study_and_name_trials_from_an_earlier_grid(tmp_path, capsys):
    study = write(tmp_path, extra='[grid]\n"model.depth" = [1, 2]\n')
    out = str(tmp_path / "out")
    assert main(["run", str(study), "--out", out, "--jobs", "1", "--no-progress"]) == 0
    smaller = ["run", str(study), "--out", out, "--set", "model.depth=1", "--jobs", "1"]
    assert main([*smaller, "--no-progress"]) == 0  # the grid shrank: 2 of its 4 trials remain
    out_text = capsys.readouterr().out
    assert "2 trials, 2 already stored, 0 run now in" in out_text and "(max_steps 2)" in out_text
    assert main(["status", out]) == 0
    from algoreg.studies import Store

    with Store(out) as store:  # the study's 2 trials' time, not the earlier grid's
        seconds = sum(t["wall_s"] for t in store.trials(store.study_ids()))
    assert capsys.readouterr().out.splitlines()[0] == (
        "cli-tiny: 2 trials: done 2, failed 0, pending 0 (max_steps 2); "
        f"trial time summed: {seconds:.1f} s; "
        "2 more stored that are not in the study's grid now"
    )
    assert main(["results", out, "--format", "json"]) == 0  # the study's trials
    assert {r["model.depth"] for r in json.loads(capsys.readouterr().out)} == {1}
    assert main(["results", out, "--format", "json", "--all"]) == 0  # and the earlier ones
    assert len(json.loads(capsys.readouterr().out)) == 4
