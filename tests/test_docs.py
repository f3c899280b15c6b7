"""The documentation site: its generated references say what the code says, its examples run,
and it builds with warnings as errors."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _generated():
    sys.path.insert(0, str(DOCS))
    try:
        import gen_reference
    finally:
        sys.path.remove(str(DOCS))
    return gen_reference.PAGES


@pytest.mark.parametrize("name", ["study-file.md", "cli.md", "presets.md"])
def test_generated_reference_pages_match_the_code(name):
    """docs/reference/NAME is what docs/gen_reference.py writes now (run it after a change)."""
    fresh = _generated()[name]()
    kept = (DOCS / "reference" / name).read_text()
    assert fresh == kept, f"docs/reference/{name} is stale: run python docs/gen_reference.py"


def test_every_key_of_every_kind_is_checked_by_the_validator():
    """The study-file reference probes each key with out-of-range values; every probe must end
    in a named ConfigError, not an exception from deep inside the code."""
    from algoreg.studies import reference

    reference.UNCHECKED.clear()
    text = reference.markdown()
    assert reference.UNCHECKED == [], "\n".join(reference.UNCHECKED)
    for section in ("problem", "model", "penalty", "optimizer"):
        for kind in reference.kinds_of(section):
            assert f"### `{kind}`" in text, f"[{section}] kind {kind} missing from the reference"


def test_the_reference_states_what_the_validator_enforces():
    """A row of the reference and the validator agree: what it calls allowed resolves, and the
    bound it states is the one an out-of-range value is refused with."""
    from algoreg.errors import ConfigError
    from algoreg.studies import reference
    from algoreg.studies.resolve import resolve_config

    rows = {k.name: k for k in reference.describe("model", "factorization", None).keys}
    assert rows["depth"].default == 1 and "must be >= 1" in rows["depth"].allowed
    point = {"problem": {"kind": "completion", "shape": [8, 8], "rank": 2, "n_obs": 20}}
    assert resolve_config({**point, "model": {"depth": 3}, "seed": 0})["model"]["depth"] == 3
    with pytest.raises(ConfigError, match="must be >= 1"):
        resolve_config({**point, "model": {"depth": 0}, "seed": 0})
    opt = {k.name: k for k in reference.describe("optimizer", "adam", None).keys}
    assert opt["b1"].default == 0.9 and "must be < 1.0" in opt["b1"].allowed


def _python_blocks(page: Path) -> list[str]:
    """The page's ```python blocks (run in the tests); ```py blocks are illustrations that need
    a data folder or a long run, and are not run."""
    return re.findall(r"```python\n(.*?)```", page.read_text(), re.S)


PAGES = sorted(p for p in DOCS.rglob("*.md") if _python_blocks(p))


def test_some_pages_have_examples():
    assert any(p.name == "first-study.md" for p in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_the_python_examples_of_a_page_run(page):
    """Every ```python block of a documentation page runs, in order, in one namespace (the
    asserts in them are the page's claims)."""
    namespace: dict = {}
    for i, block in enumerate(_python_blocks(page)):
        exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    """`mkdocs build --strict` (the `docs` extra, part of `test`): no broken link, no missing
    page, no docstring the API reference cannot render."""
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module)
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "reference" / "study-file" / "index.html").exists()


def _modules_with_examples() -> list[str]:
    src = ROOT / "src"
    return sorted(
        ".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        for p in (src / "algoreg").rglob("*.py")
        if ">>> " in p.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("module", _modules_with_examples())
def test_the_docstring_examples_of_a_module_run(module):
    """Every ``>>>`` example in a docstring runs and prints what it shows (doctest)."""
    import doctest
    import importlib

    needs = {"algoreg.clustering": "sklearn", "algoreg.estimators": "sklearn",
             "algoreg.datasets": "skimage", "algoreg.regularizers.torch": "torch"}  # fmt: skip
    for prefix, extra in needs.items():
        if module.startswith(prefix):
            pytest.importorskip(extra)
    found = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert found.attempted > 0 and found.failed == 0
