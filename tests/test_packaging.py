"""The lock CI installs (requirements/test.txt) agrees with pyproject.toml: every declared
dependency of the test environment is pinned there, at a version its range allows."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def declared(extra: str = "test") -> list[Requirement]:
    """The project's requirements with ``extra`` (self-references such as algoreg[all]
    expanded)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    out = [Requirement(r) for r in project["dependencies"]]
    todo, seen = [extra], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in extras[name]:
            req = Requirement(text)
            if canonicalize_name(req.name) == project["name"]:
                todo += sorted(req.extras)
            else:
                out.append(req)
    return out


def pins() -> dict[str, list[str]]:
    """Name → pinned versions (one per Python-version marker) of the lock file."""
    found: dict[str, list[str]] = {}
    for line in (ROOT / "requirements" / "test.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            found.setdefault(canonicalize_name(m[1]), []).append(m[2])
    return found


def test_the_lock_pins_every_declared_dependency_within_its_range():
    locked = pins()
    reqs = declared()
    assert {"jax", "optax", "numpy", "cvxpy", "pytest", "ruff"} <= {r.name for r in reqs}
    for req in reqs:
        versions = locked.get(canonicalize_name(req.name))
        assert versions, f"{req.name} is declared but not in requirements/test.txt: .ci/matrix lock"
        for version in versions:
            assert req.specifier.contains(version, prereleases=True), (
                f"requirements/test.txt pins {req.name}=={version}, outside {req}: .ci/matrix lock"
            )


def test_the_version_is_written_in_one_place():
    """pyproject.toml reads the version from algoreg.__version__, and CITATION.cff states it."""
    import yaml

    import algoreg

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "algoreg.__version__"
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == algoreg.__version__
    assert citation["license"] == project["project"]["license"]["text"]
    assert (ROOT / "LICENSE").read_text().startswith(f"{citation['license']} License")
