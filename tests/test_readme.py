"""The README's promises: the guide's study example is valid, CI runs its test command, and
docs/results.md is what `algoreg report` writes from results/."""

import os
import re
from pathlib import Path

import algoreg as ar

ROOT = Path(__file__).resolve().parents[1]


def test_the_guide_study_example_is_a_valid_study():
    text = (ROOT / "docs" / "guide" / "command-line.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    study = ar.studies.load_study(text=block)
    assert len(ar.studies.expand(study)) == study.size() == 3 * 3 * 2 * 2


def test_ci_runs_the_readme_test_command_on_the_lock_after_the_linters():
    install, test = 'pip install -c requirements/test.txt -e ".[test]"', "python -m pytest"
    assert f"{install} && {test}" in (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install in ci and ci[-1] == test
    assert ci.index(install) < ci.index("ruff check .") < ci.index("ruff format --check .")
    wheel = [i for i, line in enumerate(ci) if line.startswith("bash .ci/wheel")]
    assert wheel and wheel[0] < len(ci) - 1, "CI builds and installs the wheel before the tests"


def test_results_page_is_what_report_writes_from_the_archives(tmp_path):
    """docs/results.md is generated, not edited: `algoreg report results/* --out
    docs/results.md` writes it again (all but its dated first line) from results/ alone."""
    from algoreg.report import write_results

    page = write_results(sorted((ROOT / "results").iterdir()), tmp_path / "docs" / "results.md")
    link = Path(os.path.relpath(ROOT / "results", page.parent)).as_posix()
    fresh = page.read_text().replace(f"(<{link}/", "(<../results/")
    fresh = fresh.replace(str(ROOT / "results"), "results")  # experiment folders, by path
    kept = (ROOT / "docs" / "results.md").read_text()
    assert fresh.splitlines()[3:] == kept.splitlines()[3:]
