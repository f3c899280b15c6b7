"""Every bad path of the command line ends in one ``algoreg: error: …`` line naming the file or
flag and a non-zero exit — never a traceback, never lost or duplicated results."""

import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import STUDY, algoreg, connect, write

from algoreg.cli import main
from algoreg.studies.lock import writer_lock


def error_line(text: str) -> str:
    """The last stderr line, checked to be the one error line and no traceback."""
    assert "Traceback" not in text, text
    line = text.strip().splitlines()[-1]
    assert line.startswith("algoreg: error: "), text
    return line


@pytest.fixture
def study(tmp_path):
    return write(tmp_path, seeds=2, steps=50)


@pytest.fixture
def stored(tmp_path, study):
    """A finished study directory."""
    out = tmp_path / "out"
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    return out


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--batch-size", "-1", "argument --batch-size: must be a positive integer (>= 1), got -1"),
        ("--batch-size", "0", "argument --batch-size: must be a positive integer (>= 1), got 0"),
        ("--jobs", "0", "argument --jobs: must be a positive integer (>= 1), got 0"),
        ("--jobs", "two", "argument --jobs: must be a positive integer, got 'two'"),
        ("--max-trials", "-5", "argument --max-trials: must be a positive integer"),
    ],
)
def test_flags_are_validated_as_strictly_as_the_study_file(study, capsys, flag, value, said):
    assert main(["run", str(study), flag, value, "--out", str(study.parent / "o")]) == 2
    line = error_line(capsys.readouterr().err)
    assert line == f"algoreg: error: run: {said}" or said in line
    assert not (study.parent / "o").exists()


def test_a_huge_grid_is_refused_before_it_is_resolved(tmp_path, capsys):
    huge = write(tmp_path, seeds=1000, extra='[grid]\n"problem.n_obs" = ' + str(
        list(range(20, 1020))) + "\n")  # fmt: skip
    t0 = time.perf_counter()
    assert main(["run", str(huge), "--dry-run"]) == 2
    assert time.perf_counter() - t0 < 5  # counted, not resolved (10⁶ trials took minutes)
    line = error_line(capsys.readouterr().err)
    assert "the study has 1,000,000 trials (1000 seeds × 1000 values of problem.n_obs)" in line
    assert "more than the limit of 10,000" in line and "--max-trials 1000000" in line
    assert str(huge) in line
    small = write(tmp_path, seeds=3)
    assert main(["run", str(small), "--dry-run", "--max-trials", "2"]) == 2
    assert "3 seeds are more trials than the limit of 2" in capsys.readouterr().err
    assert main(["run", str(small), "--dry-run", "--max-trials", "3"]) == 0
    assert capsys.readouterr().out.startswith("cli-tiny: 3 trials")


def test_max_trials_help_states_the_library_default():
    from algoreg.cli import _parser
    from algoreg.studies.config import MAX_TRIALS

    (sub,) = (a for a in _parser()._actions if a.dest == "command")
    for command in ("run", "reproduce"):
        (flag,) = (a for a in sub.choices[command]._actions if a.dest == "max_trials")
        assert flag.help.endswith(f"(default: {MAX_TRIALS:,})")


def test_a_run_whose_every_trial_failed_exits_nonzero_and_says_why(
    tmp_path, study, capsys, monkeypatch
):
    import algoreg.studies.runner as runner

    def broken(batch, t0):
        raise RuntimeError("the engine broke: nan in the data")

    monkeypatch.setattr(runner, "_run", broken)
    out = tmp_path / "out"
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    line = err.strip().splitlines()[0]
    assert line.startswith("algoreg: error: 2 of the 2 trials run now failed; the first, ")
    assert "RuntimeError: the engine broke: nan in the data" in line
    assert f"algoreg results {out} --columns trial_id,status,error" in err
    assert main(["status", str(out)]) == 0  # the failures are stored, with their reasons
    assert "done 0, failed 2, pending 0" in capsys.readouterr().out


def test_a_second_run_of_a_directory_in_use_is_refused(tmp_path, study, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with writer_lock(out):
        assert main(["run", str(study), "--out", str(out), "--jobs", "1"]) == 2
        line = error_line(capsys.readouterr().err)
        assert f"process {os.getpid()} on " in line and "is writing this study directory" in line
        assert main(["merge", str(study.parent / "x"), "--into", str(out)]) == 2
    assert not (out / "results.sqlite").exists()  # nothing was run or written meanwhile
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0


def test_a_second_process_on_a_running_study_is_refused(tmp_path):
    study = write(tmp_path, seeds=1, steps=100_000_000, extra="tol = 0\n")
    out = tmp_path / "out"
    first = subprocess.Popen(
        [sys.executable, "-m", "algoreg", "run", study, "--out", out, "--jobs", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (out / "results.sqlite").exists():
            time.sleep(0.2)
        second = algoreg("run", study, "--out", out, "--jobs", "1")
        assert second.returncode == 2
        assert f"process {first.pid} on " in error_line(second.stderr)
    finally:
        first.kill()
        first.wait()
    with connect(out / "results.sqlite") as con:
        assert con.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == 0


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_store_is_named_not_a_traceback(tmp_path, stored, damage):
    db = stored / "results.sqlite"
    data = db.read_bytes()
    db.write_bytes(
        {"garbage": b"not a database" * 100, "truncated": data[: len(data) // 3], "empty": b""}[
            damage
        ]
    )
    for command in (
        ["status", stored],
        ["results", stored],
        ["report", stored, "--out", tmp_path / "r.md"],
        ["export", stored, "--archive", tmp_path / "a.jsonl.gz"],
        ["merge", stored, "--into", tmp_path / "new"],
        ["plot", stored],
    ):
        r = algoreg(*command)
        assert r.returncode != 0, command
        line = error_line(r.stderr)
        assert str(db) in line or str(stored) in line, (command, line)


def test_reading_commands_write_nothing(tmp_path, stored):
    before = {p.name: p.read_bytes() for p in stored.iterdir()}
    for command in (
        ["status", stored],
        ["results", stored, "--format", "csv"],
        ["report", stored, "--out", tmp_path / "page" / "r.md"],
        ["export", stored, "--archive", tmp_path / "a.jsonl.gz"],
        ["plot", stored, "--out", tmp_path / "fig"],
    ):
        assert algoreg(*command).returncode == 0, command
    assert {p.name: p.read_bytes() for p in stored.iterdir()} == before


def _readonly(path: Path, *command) -> subprocess.CompletedProcess:
    """Run ``algoreg COMMAND`` where ``path`` is a read-only bind mount (a user namespace)."""
    script = (
        f'mount --bind "{path}" "{path}" && mount -o remount,bind,ro "{path}" "{path}" && '
        f'touch "{path}/probe" 2>/dev/null && exit 97; exec "$@"'
    )
    argv = [sys.executable, "-m", "algoreg", *map(str, command)]
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _can_mount_readonly(tmp_path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f'mount --bind "{tmp_path}" "{tmp_path}"'],
        capture_output=True,
    )
    return probe.returncode == 0


def test_a_store_on_a_readonly_filesystem_can_be_read(tmp_path, stored):
    if not _can_mount_readonly(tmp_path):
        pytest.skip("no user namespaces to mount a read-only filesystem in")
    page = tmp_path / "page"
    page.mkdir()
    r = _readonly(stored, "status", stored)
    assert r.returncode == 0 and "done 2, failed 0, pending 0" in r.stdout, r.stderr
    r = _readonly(stored, "results", stored, "--format", "json")
    assert r.returncode == 0 and r.stdout.count('"trial_id"') == 2, r.stderr
    r = _readonly(stored, "report", stored, "--out", page / "r.md")
    assert r.returncode == 0 and (page / "r.md").is_file(), r.stderr
    r = _readonly(stored, "run", stored.parent / "study.toml", "--out", stored)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert str(stored) in error_line(r.stderr)


def test_outputs_that_cannot_be_written_are_named(tmp_path, study, stored):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    cases = [
        (["run", study, "--out", a_file], f"{a_file}: a study directory is needed here, but it"),
        (["run", study, "--out", a_file / "sub"], f"lies under {a_file}, which is a file"),
        (["merge", stored, "--into", a_file / "sub"], f"lies under {a_file}, which is a file"),
        (["report", stored, "--out", tmp_path], f"--out {tmp_path}: is a directory"),
        (["report", stored, "--out", a_file / "r.md"], f"{a_file} is a file, not a directory"),
        (["plot", stored, "--out", a_file / "fig"], f"{a_file} is a file, not a directory"),
        (["export", stored, "--archive", tmp_path], f"--archive {tmp_path}: is a directory"),
        (["export", stored, "--parquet", a_file / "t.parquet"], f"{a_file} is a file"),
    ]
    for command, said in cases:
        r = algoreg(*command)
        assert r.returncode == 2, (command, r.stderr)
        assert said in error_line(r.stderr), command
    assert a_file.read_text() == "x"


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("tcp://127.0.0.1:9", "no Dask scheduler could be reached there"),
        ("tcp://127.0.0.1:notaport", "no Dask scheduler could be reached there"),
        ("", "must be a Dask scheduler address"),
    ],
)
def test_an_unreachable_scheduler_fails_fast_and_leaves_no_store(tmp_path, study, address, said):
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    t0 = time.perf_counter()
    r = algoreg("run", study, "--out", out, "--scheduler", address)
    assert r.returncode == 2 and said in error_line(r.stderr)
    assert time.perf_counter() - t0 < 60
    assert not out.exists()


def test_report_leaves_out_diverged_trials_and_says_so(tmp_path, capsys):
    from algoreg.report import load_report

    study = tmp_path / "study.toml"
    study.write_text(
        STUDY.format(seeds=2, steps=300)
        + '[grid]\n"optimizer.learning_rate" = [1e-2, 1e4]\n'
        + '[report]\nx = "optimizer.learning_rate"\n'
    )
    out = tmp_path / "out"
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    with load_report(out) as report:
        statuses = {r["optimizer.learning_rate"]: r["status"] for r in report.rows}
        assert statuses[1e4] == "diverged" and statuses[1e-2] != "diverged"
        rows = {r["optimizer.learning_rate"]: r for r in report.table}
        assert rows[1e4]["n"] == 0 and rows[1e4]["left_out"] == "2 diverged"
        assert math.isnan(rows[1e4]["test_error_mean"])
        assert rows[1e-2]["n"] == 2 and rows[1e-2]["left_out"] == ""
        assert "left_out" in report.columns
        assert "10000" not in report.measured  # the headline names only measured rows
    md = tmp_path / "r.md"
    assert main(["report", str(out), "--out", str(md)]) == 0
    assert "2 diverged" in md.read_text()


# ---------------------------------------------------------------- a hostile user's further finds


def test_the_same_study_twice_in_a_report_is_refused(tmp_path, stored):
    archive = tmp_path / "s.jsonl.gz"
    assert algoreg("export", stored, "--archive", archive).returncode == 0
    for dirs in ([stored, stored], [stored, archive]):
        r = algoreg("report", *dirs, "--out", tmp_path / "r.md")
        assert r.returncode == 2
        assert "both hold the study 'cli-tiny'" in error_line(r.stderr)
    assert not (tmp_path / "r.md").exists()


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("model.data_seed=-1", "model.data_seed: data_seed must be >= 0"),
        ("model.sensitivity=-1", "model.sensitivity: sensitivity must be >= 0.0"),
        ("model.sizes=[64]", "model.sizes: sizes must list at least 2 layer widths"),
        ("model.epochs=3", "model.epochs: unknown key; allowed: kind, sizes, penalty"),
    ],
)
def test_a_network_trial_kind_names_its_bad_setting(capsys, setting, said):
    from algoreg.studies import preset_path

    path = str(preset_path("deephoyer-digits"))
    assert main(["run", path, "--set", setting, "--dry-run"]) == 2
    assert said in error_line(capsys.readouterr().err)


def test_results_json_is_strict_json(stored, capsys):
    import json

    assert main(["results", str(stored), "--format", "json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text
    rows = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("name=..", "not dots alone"),
        ("name=" + "x" * 101, "1 to 100 letters"),
        ("n_seeds=1000000000000", "1,000,000,000,000 seeds are more trials than the limit"),
        ("train.max_steps=9223372036854775807", "max_steps must be <= 2147483647"),
    ],
)
def test_study_values_past_what_can_run_are_refused_at_load(study, capsys, setting, said):
    assert main(["run", str(study), "--set", setting, "--dry-run"]) == 2
    assert said in error_line(capsys.readouterr().err)


def test_a_quick_that_is_not_a_table_is_named(tmp_path, capsys):
    path = tmp_path / "q.toml"
    path.write_text("quick = 5\n" + STUDY.format(seeds=1, steps=10))
    assert main(["run", str(path), "--quick", "--dry-run"]) == 2
    assert "[quick] must be a table of dotted overrides" in error_line(capsys.readouterr().err)


def test_a_damaged_archive_header_is_named(tmp_path, stored):
    import gzip
    import json

    archive = tmp_path / "s.jsonl.gz"
    assert algoreg("export", stored, "--archive", archive).returncode == 0
    lines = gzip.decompress(archive.read_bytes()).decode().splitlines()
    for damage, said in (
        (lambda m: m.update(study="x"), "meta.study must be a table"),
        (lambda m: m.update(trial_ids=5), "meta.trial_ids must be a list"),
        (lambda m: m["study"].update(report="x"), "meta.study.report must be a table"),
    ):
        head = json.loads(lines[0])
        damage(head["meta"])
        bad = tmp_path / "bad.jsonl.gz"
        bad.write_bytes(gzip.compress("\n".join([json.dumps(head), *lines[1:]]).encode()))
        for command in ("status", "plot"):
            r = algoreg(command, bad)
            assert r.returncode == 2 and said in error_line(r.stderr), (command, r.stderr)


def test_a_report_column_no_trial_has_is_named(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(STUDY.format(seeds=1, steps=10) + '[report]\nx = "problem.nobs"\n')
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--out", str(tmp_path / "r.md")]) == 2
    said = error_line(capsys.readouterr().err)
    assert "[report] x = 'problem.nobs': no trial has this column" in said
    assert "did you mean 'problem.n_obs'" in said


def test_a_closed_stdout_is_no_traceback(stored):
    r = subprocess.run(
        f'"{sys.executable}" -m algoreg status "{stored}" >&-',
        shell=True,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in r.stderr


def test_fit_names_what_is_not_a_problem():
    import numpy as np

    import algoreg as ar

    m = ar.models.factorization(depth=1)
    for bad in (None, np.zeros((3, 3))):
        with pytest.raises(ar.ConfigError, match=r"is a \w+, not an algoreg Problem"):
            ar.fit(bad, m, max_steps=5)
    p = ar.problems.completion(shape=(6, 6), rank=1, n_obs=20, seed=0)
    with pytest.raises(ar.ConfigError, match="max_steps must be <= 2147483647"):
        ar.fit(p, m, max_steps=2**31)
    with pytest.raises(ar.ConfigError, match="must be <= 4294967295"):
        ar.fit(p, m, max_steps=5, seed=2**32)


def test_a_directory_holding_another_study_is_not_taken_over(tmp_path, stored, capsys):
    other = tmp_path / "other.toml"
    other.write_text(STUDY.format(seeds=1, steps=10).replace('"cli-tiny"', '"other"'))
    before = (stored / "results.sqlite").read_bytes()
    assert main(["run", str(other), "--out", str(stored), "--jobs", "1"]) == 2
    said = error_line(capsys.readouterr().err)
    assert "holds the study 'cli-tiny', not 'other'" in said and "--out runs/other" in said
    assert (stored / "results.sqlite").read_bytes() == before
    theirs = tmp_path / "theirs"
    assert main(["run", str(other), "--out", str(theirs), "--jobs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["merge", str(theirs), "--into", str(stored)]) == 2
    said = error_line(capsys.readouterr().err)
    assert f"{stored} holds 'cli-tiny', {theirs} holds 'other'" in said
    assert main(["merge", str(theirs), str(stored), "--into", str(tmp_path / "new")]) == 2
    assert not (tmp_path / "new").exists()  # refused before anything was written
    assert (stored / "results.sqlite").read_bytes() == before


def test_only_does_not_take_true_for_one(study, capsys):
    assert main(["run", str(study), "--only", "model.depth=true", "--dry-run"]) == 2
    assert "matches none of the study's 2 trials" in error_line(capsys.readouterr().err)


def test_reproduce_needs_a_name_or_list_not_both_or_empty(capsys):
    assert main(["reproduce", ""]) == 2
    assert "unknown preset ''" in error_line(capsys.readouterr().err)
    assert main(["reproduce", "--list", "razin2020"]) == 2
    assert "give a preset NAME or --list, not both" in error_line(capsys.readouterr().err)


def test_results_columns_are_named_and_shown_once(stored, capsys):
    assert main(["results", str(stored), "--columns", "seed,test_eror"]) == 2
    said = error_line(capsys.readouterr().err)
    assert "did you mean 'test_error'" in said and "(columns: " in said and "seed, " in said
    assert main(["results", str(stored), "--columns", "seed", "seed", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "seed"
