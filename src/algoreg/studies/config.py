"""Study files: TOML in, a validated :class:`Study` (base config, grid axes, seeds) out.

A study file has a ``name``, ``seeds = [...]`` or ``n_seeds``, the tables ``[problem]``,
``[model]``, ``[penalty]``, ``[optimizer]`` and ``[train]`` (the engine's parameter names), a
``[grid]`` table of dotted keys whose value lists expand to the Cartesian product, and optional
``[[zip]]`` tables whose lists vary together (one axis each), and optional ``[[where]]`` rules
that change the grid points they match (see :class:`Rule`). Example::

    name = "depth-vs-samples"
    n_seeds = 3
    [problem]
    kind = "completion"
    shape = [100, 100]
    rank = 5
    [model]
    init_scale = 1e-3
    [optimizer]
    kind = "group_rmsprop"
    learning_rate = 1e-3
    [train]
    max_steps = 100_000
    tol = 1e-6
    [grid]
    "problem.n_obs" = [2000, 3000]
    "model.depth" = [2, 3]

Every error names the file, the line (where it can be found), the key and what is allowed.
This module checks a study's structure (:func:`from_dict`); :mod:`.load` reads the file and
resolves each grid point (:func:`.load.load_study`).
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, check_int, did_you_mean

SECTIONS = ("problem", "model", "penalty", "optimizer", "train")
TOP_KEYS = (
    "name",
    "description",
    "claim",
    "seeds",
    "n_seeds",
    "batch_size",
    "grid",
    "zip",
    "where",
    "quick",
    "report",
)
# [report]: how `algoreg reproduce` / `algoreg report` tabulate and plot a study.
#   plot = "summary"  mean ± sd of y against x (row columns), one line per hue
#          "history"  y against x from each trial's logged history, one curve per trial
#          "spectrum" singular values over training, one panel per hue value (with the
#                     gradient-flow agreement when the trials log sv_flow_rate)
#   by: the table's grouping columns (default: hue, and x for a summary plot); the first names
#          the rows that checks refer to (default: hue); metrics: the metrics the table summarizes;
#   criterion: the validation metric that chooses λ / learning rate (with a validation split).
#   claim_label: how the report introduces ``claim`` ("Paper says", or e.g. "Assumption under
#          test" when the claim is this project's own, not the literature's).
#   checks: [[report.checks]] tables that test the claim on the table (algoreg.report.checks).
#   select: a [report.select] table choosing per row the setting that minimizes or maximizes a
#          metric under a validation constraint relative to a reference
#          (algoreg.report.selection); plot = "tradeoff" then draws every setting's mean
#          (x, y) of two metrics, the chosen ones starred.
#   facet: a column whose values split a summary figure into panels (small multiples, e.g.
#          "model.depth"), so that no panel holds more than ~6 series.
#   replicates: columns whose values are pooled like seeds, never grouped by (e.g.
#          ["problem.split"] for cross-validation folds): table rows, selection and checks
#          read the mean ± sd over them; the figure still plots x (which may be one of them).
REPORT_DEFAULTS: dict[str, Any] = {
    "plot": "summary",
    "x": "problem.n_obs",
    "y": "test_error",
    "hue": "method",
    "by": None,
    "metrics": None,
    "logx": None,
    "criterion": "val_error",
    "claim_label": "Paper says",
    "checks": (),
    "select": None,
    "facet": None,
    "replicates": (),
}
REPORT_PLOTS = ("summary", "history", "spectrum", "tradeoff")


class StudyError(ConfigError):
    """An invalid study file or override; the message starts with ``file:line:``."""


class UnusedRuleError(StudyError):
    """A ``[[where]]`` rule that matches none of the study file's grid points."""


@dataclass(frozen=True)
class Axis:
    """One grid dimension: ``keys`` (dotted) take the value tuples in ``values`` together."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Rule:
    """A ``[[where]]`` rule: every grid point whose resolved config has all the ``match``
    values (dotted ``section.key``, defaults filled in) gets the ``set`` values (dotted keys, or
    a bare section with a whole table) before it is resolved again. Rules apply in file order,
    each to the config the earlier ones left; a rule that matches no grid point is an error.
    How to carve exceptions out of a product, e.g. the exact SVD for plain GD only::

        [[where]]
        match = { "optimizer.kind" = "gd", "penalty.kind" = "ratio" }
        set = { "penalty.method" = "svd" }
    """

    match: tuple[tuple[str, Any], ...]
    set: tuple[tuple[str, Any], ...]

    def matches(self, config: dict[str, Any]) -> bool:
        missing = object()
        for key, value in self.match:
            section, _, name = key.partition(".")
            if config.get(section, {}).get(name, missing) != value:
                return False
        return True

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {"match": dict(self.match), "set": dict(self.set)}


@dataclass(frozen=True)
class Study:
    """A validated study: base config per section, grid axes and replicate seeds."""

    name: str
    base: dict[str, dict[str, Any]]
    axes: tuple[Axis, ...]
    seeds: tuple[int, ...]
    source: str = "<string>"
    text: str = field(default="", repr=False, compare=False)
    description: str = ""
    claim: str = ""  # what the literature says, quoted in generated reports
    batch_size: int | None = None
    report: dict[str, Any] = field(default_factory=lambda: dict(REPORT_DEFAULTS))
    rules: tuple[Rule, ...] = ()

    def size(self) -> int:
        n = len(self.seeds)
        for axis in self.axes:
            n *= len(axis.values)
        return n

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "claim": self.claim,
            "base": self.base,
            "axes": [
                {"keys": list(a.keys), "values": [list(v) for v in a.values]} for a in self.axes
            ],
            "seeds": list(self.seeds),
            "where": [rule.to_dict() for rule in self.rules],
            "source": self.source,
            "report": self.report,
        }


# ---------------------------------------------------------------- locating keys in the text


def find_line(text: str, dotted: str) -> int | None:
    """Line number (1-based) where ``dotted`` (``section.key`` or a grid key) is written."""
    section, _, key = dotted.partition(".")
    table = None
    quoted = re.compile(r'^\s*["\']' + re.escape(dotted) + r'["\']\s*=')
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[\[?\s*([\w.\-]+)\s*\]\]?", line)
        if header:
            table = header.group(1)
            if table == dotted:  # a whole table, e.g. [[where]]
                return number
            continue
        if quoted.match(line):
            return number
        if key and table == section and re.match(r"^\s*" + re.escape(key) + r"\s*=", line):
            return number
        if not key and table is None and re.match(r"^\s*" + re.escape(section) + r"\s*=", line):
            return number
    return None


def _error(study_source: str, text: str, dotted: str | None, message: str) -> StudyError:
    line = find_line(text, dotted) if dotted else None
    where = f"{study_source}:{line}" if line else study_source
    key = f"{dotted}: " if dotted else ""
    return StudyError(f"{where}: {key}{message}")


# ---------------------------------------------------------------- overrides


def parse_override(item: str, flag: str = "--set") -> tuple[str, Any]:
    """``key=value`` with a TOML value (``3``, ``1e-3``, ``[1, 2]``, ``"x"``) or a bare word."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        example = "train.max_steps=5000" if flag == "--set" else "problem.n_obs=[4000,5000]"
        raise StudyError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {example}")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word such as adam
    return key, value


def apply_overrides(raw: dict[str, Any], overrides: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """Set dotted keys in a raw study dict: ``train.tol``, ``grid.model.depth``, ``n_seeds``."""
    raw = copy.deepcopy(raw)
    for key, value in overrides:
        head, _, rest = key.partition(".")
        if not rest:
            raw[head] = value
            if head == "n_seeds":
                raw.pop("seeds", None)
            if head == "seeds":
                raw.pop("n_seeds", None)
        elif head == "grid":
            raw.setdefault("grid", {})[rest] = value
        else:
            table = raw.setdefault(head, {})
            if not isinstance(table, dict):
                raise StudyError(f"--set {key}: {head!r} is not a table")
            table[rest] = value
            # a fixed value replaces the key's grid axis, if any
            if isinstance(raw.get("grid"), dict):
                raw["grid"].pop(key, None)
    return raw


# ---------------------------------------------------------------- loading

# the most trials a study may have unless raised (``--max-trials``): validating and resolving
# a trial takes about half a millisecond, so a mistyped grid of 10⁶ points took minutes and
# gigabytes before anything was printed
MAX_TRIALS = 10_000


def from_dict(
    raw: dict[str, Any],
    *,
    source: str = "<dict>",
    text: str = "",
    max_trials: int | None = MAX_TRIALS,
) -> Study:
    """Validate the structure of a raw study mapping (as parsed from TOML) into a
    :class:`Study`: its keys, seeds, axes, rules and ``[report]`` table (each grid point's
    values are checked by :func:`.load.load_study`, which resolves them). ``n_seeds`` past
    ``max_trials`` (None: no limit) is refused before a range of them is built."""

    def err(key, message):
        return _error(source, text, key, message)

    for key in raw:
        if key not in TOP_KEYS and key not in SECTIONS:
            raise err(
                key,
                f"unknown top-level key; allowed: {', '.join(TOP_KEYS + SECTIONS)}"
                + did_you_mean(key, TOP_KEYS + SECTIONS),
            )
    name = raw.get("name")
    if (
        not isinstance(name, str)
        or not re.fullmatch(r"[\w.\-]{1,100}", name)
        or not name.strip(".")  # "." and ".." name directories that are not the study's own
    ):
        raise err(
            "name",
            f"a study needs a name of 1 to 100 letters, digits, '-', '_' or '.' (not dots "
            f"alone): it names its directory runs/NAME; got {name!r}",
        )
    if "seeds" in raw and "n_seeds" in raw:
        raise err("seeds", "give either seeds = [...] or n_seeds = N, not both")
    if "seeds" in raw:
        seeds = raw["seeds"]
        if not isinstance(seeds, list) or not seeds:
            raise err("seeds", f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
        try:
            seeds = tuple(check_int("seeds", s, low=0) for s in seeds)
        except ConfigError as exc:
            raise err("seeds", str(exc)) from None
        if len(set(seeds)) != len(seeds):
            raise err("seeds", f"seeds must be distinct, got {list(seeds)}")
    else:
        try:
            n = check_int("n_seeds", raw.get("n_seeds", 1), low=1)
        except ConfigError as exc:
            raise err("n_seeds", str(exc)) from None
        if max_trials is not None and n > max_trials:  # before a range of them is built
            raise err(
                "n_seeds",
                f"{n:,} seeds are more trials than the limit of {max_trials:,}; raise it with "
                f"--max-trials {n}",
            )
        seeds = tuple(range(n))
    batch_size = raw.get("batch_size")
    if batch_size is not None:
        try:
            batch_size = check_int("batch_size", batch_size, low=1)
        except ConfigError as exc:
            raise err("batch_size", str(exc)) from None

    base: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        table = raw.get(section, {})
        if not isinstance(table, dict):
            raise err(section, f"[{section}] must be a table, got {type(table).__name__}")
        base[section] = dict(table)

    axes: list[Axis] = []
    grid = raw.get("grid", {})
    if not isinstance(grid, dict):
        raise err("grid", "[grid] must be a table of dotted keys to lists")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise err(key, f"grid values must be a non-empty list, got {values!r}")
        _check_axis_key(key, source, text, values)
        axes.append(Axis((key,), tuple((v,) for v in values)))
    zips = raw.get("zip", [])
    if not isinstance(zips, list):
        raise err("zip", "zip groups are written [[zip]] (an array of tables)")
    for group in zips:
        if not isinstance(group, dict) or not group:
            raise err("zip", "each [[zip]] group must be a non-empty table of dotted keys to lists")
        lengths = set()
        for key, values in group.items():
            if not isinstance(values, list) or not values:
                raise err(key, f"zip values must be a non-empty list, got {values!r}")
            _check_axis_key(key, source, text, values)
            lengths.add(len(values))
        if len(lengths) != 1:
            raise err(
                next(iter(group)),
                f"lists in one [[zip]] group must have equal lengths, got {sorted(lengths)}",
            )
        keys = tuple(group)
        axes.append(Axis(keys, tuple(zip(*(group[k] for k in keys), strict=True))))
    seen: set[str] = set()
    for axis in axes:
        for key in axis.keys:
            section = key.partition(".")[0]
            if (
                key in seen
                or f"{section}.*" in seen
                or (key == section and any(k.startswith(section + ".") for k in seen))
            ):
                raise err(key, "varies in two grid axes; put it in one [grid] key or [[zip]] group")
            seen.add(key if "." in key else f"{section}.*")

    rules = _rules(raw.get("where", []), source, text)
    report = _report_spec(raw.get("report", {}), err)
    study = Study(
        name,
        base,
        tuple(axes),
        seeds,
        source,
        text,
        description=str(raw.get("description", "")),
        claim=str(raw.get("claim", "")),
        batch_size=batch_size,
        report=report,
        rules=rules,
    )
    return study


def _rules(table: Any, source: str, text: str) -> tuple[Rule, ...]:
    """The validated ``[[where]]`` rules (see :class:`Rule`)."""

    def err(message: str) -> StudyError:
        return _error(source, text, "where", message)

    if not isinstance(table, list):
        raise err("where rules are written [[where]] (an array of tables)")
    rules = []
    for i, rule in enumerate(table, 1):
        if not isinstance(rule, dict) or set(rule) != {"match", "set"}:
            got = sorted(rule) if isinstance(rule, dict) else type(rule).__name__
            raise err(f"rule {i} must be a table with exactly the keys match and set, got {got}")
        for part in ("match", "set"):
            if not isinstance(rule[part], dict) or not rule[part]:
                raise err(f"rule {i}: {part} must be a non-empty table of dotted keys to values")
        for key in rule["match"]:
            if "." not in key:
                raise err(f"rule {i}: match keys are dotted 'section.key', got {key!r}")
            _check_axis_key(key, source, text)
        for key, value in rule["set"].items():
            _check_axis_key(key, source, text, None if "." in key else [value])
        rules.append(Rule(tuple(rule["match"].items()), tuple(rule["set"].items())))
    return tuple(rules)


def _report_spec(table: Any, err) -> dict[str, Any]:
    """The validated ``[report]`` table with defaults filled in (see ``REPORT_DEFAULTS``)."""
    if not isinstance(table, dict):
        raise err("report", f"[report] must be a table, got {type(table).__name__}")
    out = dict(REPORT_DEFAULTS)
    for key, value in table.items():
        dotted = f"report.{key}"
        if key not in REPORT_DEFAULTS:
            raise err(
                dotted,
                f"unknown key; allowed: {', '.join(REPORT_DEFAULTS)}"
                + did_you_mean(key, REPORT_DEFAULTS),
            )
        if key == "plot" and value not in REPORT_PLOTS:
            raise err(
                dotted,
                f"unknown plot {value!r}; allowed: {', '.join(REPORT_PLOTS)}"
                + did_you_mean(str(value), REPORT_PLOTS),
            )
        if key in ("x", "y", "hue", "criterion", "facet") and not isinstance(value, str):
            raise err(dotted, f"{key} must be a column name (a string), got {value!r}")
        if key == "claim_label" and (not isinstance(value, str) or not value.strip()):
            raise err(dotted, f"claim_label must be a non-empty string, got {value!r}")
        if key == "checks":
            from ..report.checks import check_problem

            if not isinstance(value, list):
                raise err(dotted, f"checks must be [[report.checks]] tables, got {value!r}")
            for i, check in enumerate(value):
                if problem := check_problem(check):
                    raise err(dotted, f"check {i + 1}: {problem}")
        if key == "select":
            from ..report.selection import selection_problem

            if problem := selection_problem(value):
                raise err(dotted, problem)
        if key in ("by", "metrics", "replicates") and (
            not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
        ):
            raise err(dotted, f"{key} must be a non-empty list of column names, got {value!r}")
        if key == "logx" and not isinstance(value, bool):
            raise err(dotted, f"logx must be true or false, got {value!r}")
        out[key] = value
    if out["plot"] == "tradeoff" and not out["select"]:
        raise err("report.plot", 'plot = "tradeoff" draws a selection: it needs [report.select]')
    return out


def _check_axis_key(key: str, source: str, text: str, values: list | None = None) -> None:
    """Axis keys are ``section.key``, or a bare ``section`` whose values are whole tables
    (each replacing that section: how to vary the method, e.g. a model and a baseline)."""
    section, _, name = key.partition(".")
    if section not in SECTIONS:
        raise _error(
            source,
            text,
            key,
            "grid keys are dotted 'section.key' (or a bare section "
            f"with table values), section one of {', '.join(SECTIONS)}"
            + did_you_mean(section, SECTIONS),
        )
    if not name and values is not None and not all(isinstance(v, dict) for v in values):
        raise _error(
            source,
            text,
            key,
            f"a bare section key {key!r} takes a list of tables, "
            'e.g. [{kind = "factorization", depth = 2}, {kind = "nuclear_norm"}]',
        )
