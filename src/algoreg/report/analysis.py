"""One study's table, headline and figure, as its ``[report]`` spec asks — the single place
that both ``algoreg reproduce`` and the generated ``docs/results.md`` get them from."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, did_you_mean
from .checks import CheckResult, evaluate
from .plot import higher_is_better, plot_histories, plot_spectra, plot_summary, plot_tradeoff
from .selection import objective, reference_value, select_constrained
from .table import TUNED, result_rows, select_best, sort_key, summarize, usable

History = Callable[[str], dict[str, np.ndarray]]


@dataclass
class StudyReport:
    """A study's rows (one per trial), summary table and the columns to show."""

    name: str
    meta: dict[str, Any]
    spec: dict[str, Any]
    rows: list[dict[str, Any]]
    table: list[dict[str, Any]]
    columns: list[str]
    note: str
    measured: str
    history: History
    tuned: bool  # λ / learning rate chosen by validation error: one row per chosen setting
    planned: int = 0  # trials the study holds; more than len(rows) while some have not run
    checks: tuple[CheckResult, ...] = ()  # the claim's [[report.checks]], evaluated


def _spec(meta: dict[str, Any]) -> dict[str, Any]:
    from ..studies.config import REPORT_DEFAULTS

    return {**REPORT_DEFAULTS, **(meta.get("report") or {})}


@contextmanager
def load_report(directory: str | Path) -> Iterator[StudyReport]:
    """``with load_report(DIR) as report:`` a study store's (or archive's) report. Histories
    are read lazily, per trial, from the store opened here; it closes when the block ends, in
    the thread that opened it (SQLite refuses any other)."""
    from ..studies import Store
    from ..studies.archive import archive_stem

    directory = Path(directory)
    with Store(directory, create=False) as store:
        meta = store.meta("study") or {}
        ids = store.study_ids() or []
        trials = store.trials(ids)
        name = meta.get("name", archive_stem(directory).name)
        yield build_report(name, meta, result_rows(trials), store.history, planned=len(ids))


def build_report(
    name: str,
    meta: dict[str, Any],
    rows: list[dict[str, Any]],
    history: History,
    planned: int = 0,
) -> StudyReport:
    spec = _spec(meta)
    _check_columns(meta.get("report") or {}, spec, rows)
    if spec["plot"] == "spectrum":
        from ..metrics import flow_agreement

        for row in rows:
            lr = row.get("optimizer.learning_rate")
            if usable(row) and lr and row.get("optimizer.kind") == "gd":
                row.update(flow_agreement(history(row["trial_id"]), lr))
    table, columns, note, group = _table(rows, spec)
    measured = _measured(table, spec, group)
    tuned = group == "method_family" and not spec["select"]  # select_best's choice
    planned = max(planned, len(rows))
    checks = tuple(evaluate(c, table, group, spec) for c in spec["checks"])
    return StudyReport(
        name, meta, spec, rows, table, columns, note, measured, history, tuned, planned, checks
    )


def _check_columns(given: dict[str, Any], spec: dict[str, Any], rows: list[dict]) -> None:
    """A ``[report]`` key naming a column no trial has is an error naming the key and the
    columns there are (else: a table of blanks, or a crash deep in the plotting)."""
    if not rows:
        return
    known = {k for r in rows for k in r}
    keys = ["hue", "by", "facet", "replicates"] + (
        ["x", "y", "metrics"] if spec["plot"] in ("summary", "tradeoff") else []
    )
    if any(r.get("problem.validation") for r in rows):  # else the criterion is not used
        keys.append("criterion")
    for key in keys:
        value = given.get(key)
        for column in value if isinstance(value, list) else [value] if value else []:
            if column not in known:
                raise ConfigError(
                    f"[report] {key} = {column!r}: no trial has this column"
                    + did_you_mean(column, sorted(known))
                    + f" (columns: {', '.join(sorted(known))})"
                )
    select = spec["select"] or {}
    named = [*select.get("params", ()), *(select.get(k) for k in ("minimize", "maximize"))]
    for column in [*named, select.get("constraint"), *select.get("reference", {})]:
        if column and column not in known:
            raise ConfigError(
                f"[report.select] {column!r}: no trial has this column"
                + did_you_mean(column, sorted(known))
                + f" (columns: {', '.join(sorted(known))})"
            )


def _pooled(spec: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """How the table's means pool trials: over seeds and the ``replicates`` columns."""
    parts = []
    for column in spec["replicates"]:
        values = sorted({str(r.get(column)) for r in rows if column in r}, key=sort_key)
        parts.append(f"{column} ({', '.join(values)})")
    return " and ".join([*parts, "seeds"])


def _table(rows: list[dict[str, Any]], spec: dict[str, Any]):
    x, y, hue = spec["x"], spec["y"], spec["hue"]
    checked = [c.get("metric", y) for c in spec["checks"]]  # the table shows what checks read
    pooled = spec["replicates"]
    if spec["select"]:
        return _selected(rows, spec, checked)
    if any(r.get("problem.validation") for r in rows):
        kept = [b for b in spec["by"] or [] if b not in ("method", "method_family", *pooled)]
        if spec["plot"] == "summary" and x not in kept and x not in pooled:
            kept.append(x)
        by = ["method_family", *kept]  # the choice is made within each of these groups
        criterion = spec["criterion"]
        shown = list(dict.fromkeys([y, *(spec["metrics"] or []), *checked, "effective_rank"]))
        table: list[dict[str, Any]] = select_best(rows, by, criterion=criterion, report=shown)
        tuned = [t for t in TUNED if any(t in r for r in rows)]
        cols = [*by, *tuned, f"{criterion}_mean", f"{y}_mean", f"{y}_sd", "n", "left_out"]
        cols += [f"{m}_mean" for m in shown if m != y]
        cols = list(dict.fromkeys(cols))  # y, or a shown metric, may be the criterion itself
        note = f"λ and learning rate chosen per row by {criterion} (never the test error)."
        if pooled:
            note = (
                f"λ and learning rate chosen per row by the mean {criterion} over "
                f"{_pooled(spec, rows)} (never the test error); mean and sd over the same."
            )
        return table, cols, note, "method_family"
    by = spec["by"] or ([hue, x] if spec["plot"] == "summary" else [hue])
    by = [b for b in by if b not in pooled]
    metrics = list(dict.fromkeys([*(spec["metrics"] or [y]), *checked]))
    if spec["plot"] == "spectrum" and any(
        math.isfinite(r.get("flow_err_median", math.nan)) for r in rows
    ):
        metrics = list(dict.fromkeys([*metrics, "flow_err_median", "flow_err_max"]))
    table = []
    for m in metrics:
        for i, group in enumerate(summarize(rows, by, m)):
            if len(table) <= i:
                table.append({b: group[b] for b in by})
            counts = ("n", "n_missing", "left_out")
            table[i].update({k: v for k, v in group.items() if k.startswith(m) or k in counts})
    cols = [*by, *(c for m in metrics for c in (f"{m}_mean", f"{m}_sd")), "n", "left_out"]
    note = f"mean and sd over {_pooled(spec, rows)}; " + ", ".join(metrics)
    note += " at the end of training."
    return table, cols, note, spec["by"][0] if spec["by"] else hue  # what checks' rows name


def _selected(rows: list[dict[str, Any]], spec: dict[str, Any], checked: list[str]):
    """The ``[report.select]`` table: one chosen setting per group of ``by``."""
    select, y = spec["select"], spec["y"]
    by = spec["by"] or [spec["hue"]]
    goal, constraint = objective(select), select.get("constraint")
    shown = list(dict.fromkeys([y, *(spec["metrics"] or []), *checked]))
    table = select_constrained(rows, by, select, shown)
    cols = [*by, *select["params"], f"{goal}_mean"]
    if constraint:
        cols += [f"{constraint}_mean", f"{constraint}_reference"]
    cols += [f"{y}_mean", f"{y}_sd", "n", "left_out"]
    cols = list(dict.fromkeys([*cols, *(f"{m}_mean" for m in shown)]))
    how = "minimizes" if "minimize" in select else "maximizes"
    note = f"per row, the setting of {', '.join(select['params'])} that {how} mean {goal}"
    if constraint:
        ref = ", ".join(f"{k} = {v}" for k, v in select["reference"].items())
        signs = {"at_least": "≥", "at_most": "≤"}
        bounds = " and ".join(f"{signs[k]} {select[k]:+g}" for k in signs if k in select)
        note += f" among those whose mean {constraint} minus the reference's ({ref}) is {bounds}"
    note += "; means over seeds (the test split is never used to choose)."
    return table, cols, note, by[0]


def _measured(table: Sequence[dict[str, Any]], spec: dict[str, Any], group: str) -> str:
    """A one-line headline computed from the table: the best method per x (summary plots),
    else each group's mean of y."""
    x, y, words = spec["x"], f"{spec['y']}_mean", spec["y"].replace("_", " ")
    if spec["select"]:  # what was chosen, and its objective
        goal = objective(spec["select"])
        params = spec["select"]["params"]
        parts = []
        for r in table:
            setting = ", ".join(f"{p} = {r[p]}" for p in params if r[p] is not None)
            where = f" at {setting}" if setting else " (no setting meets the constraint)"
            parts.append(f"{r[group]}{where}: {goal} {r[f'{goal}_mean']:.3g}, {words} {r[y]:.3g}")
        return "chosen: " + "; ".join(parts) + "." if parts else ""

    def at(value: Any) -> str:
        return f"{value} observations" if x == "problem.n_obs" else f"{x} = {value}"

    parts = []
    if spec["plot"] == "summary" and group.startswith("method") and table and x in table[0]:
        high = higher_is_better(spec["y"])
        for value in sorted({r[x] for r in table}, key=sort_key):
            rows = [r for r in table if r[x] == value and not math.isnan(r.get(y, math.nan))]
            if rows:
                best = (max if high else min)(rows, key=lambda r: r[y])
                parts.append(f"at {at(value)} {best[group]} ({best[y]:.3g})")
        best_word = "highest" if high else "lowest"
        return f"{best_word} mean {words}: " + "; ".join(parts) + "." if parts else ""
    keys = [k for k in (group, x) if table and k in table[0] and not k.startswith("method")]

    def label(r: dict[str, Any]) -> str:
        named = ", ".join(f"{k} = {r[k]}" for k in keys)
        return " ".join(str(v) for v in (r.get("method", r.get("method_family")), named) if v)

    parts = [f"{label(r)}: {r.get(y, math.nan):.3g}" for r in table]
    return f"mean {words}: " + "; ".join(parts) + "." if parts else ""


def chosen_rows(report: StudyReport) -> list[dict[str, Any]]:
    """The rows a figure shows: with a validation split only the chosen λ / learning rate."""
    if report.tuned:
        keys = [c for c in report.columns if c in ("method_family", report.spec["x"], *TUNED)]
        chosen = {tuple(t.get(k) for k in keys) for t in report.table}
        return [r for r in report.rows if tuple(r.get(k) for k in keys) in chosen]
    return report.rows


def write_figure(report: StudyReport, out: str | Path) -> list[Path]:
    """The study's figure (PNG and PDF at ``out`` with those suffixes)."""
    spec, rows = report.spec, [r for r in chosen_rows(report) if usable(r)]
    hue = "method_family" if report.tuned else spec["hue"]
    if spec["plot"] == "history":
        return plot_histories(
            rows,
            report.history,
            out,
            x=spec["x"],
            y=spec["y"],
            hue=hue,
            title=report.name,
            logx=spec["logx"],
        )
    if spec["plot"] == "spectrum":
        return plot_spectra(rows, report.history, out, hue=hue, title=report.name)
    if spec["plot"] == "tradeoff":
        return _tradeoff(report, rows, out)
    return plot_summary(
        rows,
        out,
        x=spec["x"],
        y=spec["y"],
        hue=hue,
        title=report.name,
        logx=spec["logx"],
        facet=spec["facet"],
        replicates=spec["replicates"],
    )


def _tradeoff(report: StudyReport, rows: list[dict[str, Any]], out: str | Path) -> list[Path]:
    """Every setting's mean (x, y), the chosen ones starred; with y the constraint, a line at
    the lowest (or highest) y each reference allows."""
    spec, select = report.spec, report.spec["select"]
    by = spec["by"] or [spec["hue"]]
    keys = list(dict.fromkeys([*by, *select["params"]]))
    chosen = {tuple(t.get(k) for k in keys) for t in report.table}
    lines: dict[str, float] = {}
    if select.get("constraint") == spec["y"]:
        bound = select.get("at_least", select.get("at_most"))
        for t in report.table:
            ref = reference_value(rows, {b: t[b] for b in by}, select)
            named = [str(t[b]) for b in by if b not in ("method", "method_family")]
            lines[" ".join(["reference", *named, f"{bound:+g}"])] = ref + bound
    return plot_tradeoff(
        rows,
        out,
        keys=keys,
        chosen=chosen,
        x=spec["x"],
        y=spec["y"],
        hue=spec["hue"],
        title=report.name,
        logx=spec["logx"],
        lines=lines,
    )


__all__ = ["StudyReport", "build_report", "chosen_rows", "load_report", "write_figure"]
