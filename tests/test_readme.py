"""The README's promises: its study example is valid, and CI runs its test command."""

import re
from pathlib import Path

import algoreg as ar

ROOT = Path(__file__).resolve().parents[1]


def test_readme_study_example_is_a_valid_study():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    study = ar.studies.load_study(text=block)
    assert len(ar.studies.expand(study)) == study.size() == 3 * 3 * 2 * 2


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = 'pip install -e ".[test]" && python -m pytest'
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()
