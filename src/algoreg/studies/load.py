"""Loading a study: read the TOML file, apply ``[quick]`` and ``--set`` overrides, validate
its structure (:func:`.config.from_dict`), count its trials, and resolve every grid point once
so that any bad value is reported, with its file and line, before anything runs."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..dotted import dotted_items
from .config import (
    MAX_TRIALS,
    Study,
    StudyError,
    UnusedRuleError,
    _error,
    apply_overrides,
    from_dict,
    parse_override,
)
from .grid import check_size, points
from .resolve import resolve_config


def load_study(
    path: str | Path | None = None,
    *,
    text: str | None = None,
    overrides: Sequence[str] = (),
    quick: bool = False,
    max_trials: int | None = MAX_TRIALS,
) -> Study:
    """Read and validate a study from a TOML file (or ``text``), with ``--set`` overrides.

    ``quick=True`` applies the file's ``[quick]`` table (dotted overrides) first. A study of
    more than ``max_trials`` trials (None: no limit) is refused before its grid points are
    validated one by one.
    """
    source = str(path) if path is not None else "<string>"
    if text is None:
        if path is None:
            raise StudyError("load_study needs a path or text")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StudyError(f"{source}: no such study file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise StudyError(f"{source}: cannot read the study file ({exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{source}: not valid TOML: {exc}") from None
    quick_table = raw.pop("quick", {})
    if not isinstance(quick_table, dict):
        raise _error(source, text, "quick", "[quick] must be a table of dotted overrides")
    written = copy.deepcopy(raw)
    if quick:
        if not quick_table:
            raise StudyError(f"{source}: --quick needs a [quick] table of overrides in the file")
        raw = apply_overrides(raw, list(dotted_items(quick_table)))
    parsed = [parse_override(o) for o in overrides]
    raw = apply_overrides(raw, parsed)
    narrowed = quick or bool(parsed)
    study = checked_study(
        raw, source=source, text=text, rules_must_match=not narrowed, max_trials=max_trials
    )
    if narrowed and study.rules:
        # a --quick or --set subset (a shard) may leave a rule's points out, but each rule
        # must match a point of the file's own grid (the data folder is not a grid change)
        data = [(k, v) for k, v in parsed if k == "problem.path"]
        try:
            checked_study(
                apply_overrides(written, data), source=source, text=text, max_trials=max_trials
            )
        except UnusedRuleError:
            raise
        except StudyError:
            pass  # the file loads only with its overrides: it has no grid of its own to check
    return study


def checked_study(
    raw: dict[str, Any],
    *,
    source: str = "<dict>",
    text: str = "",
    rules_must_match: bool = True,
    max_trials: int | None = MAX_TRIALS,
) -> Study:
    """:func:`.config.from_dict`, then every grid point resolved (cheap: no data is
    generated), once per point, not per seed (the seed enters no check), and only after the
    trials are counted (:func:`.grid.check_size`); with ``rules_must_match``, a ``[[where]]``
    rule that matches no grid point is an error."""
    study = from_dict(raw, source=source, text=text, max_trials=max_trials)
    check_size(study, max_trials)
    used = [False] * len(study.rules)
    for point in points(replace(study, seeds=study.seeds[:1]), used=used):
        resolve_config(point, source=source, text=text)
    for i, hit in enumerate(used):
        if rules_must_match and not hit:
            matched = ", ".join(f"{k} = {v!r}" for k, v in study.rules[i].match)
            message = f"rule {i + 1} ({matched}) matches none of the study's grid points"
            raise UnusedRuleError(str(_error(source, text, "where", message)))
    return study
