"""``docs/results.md`` generated from study stores: per study, what the literature says (the
study file's ``claim``), what we measured (a table and a figure), and a one-line summary
computed from the same numbers — nothing in it is written by hand."""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ConfigError
from .analysis import StudyReport, load_report, write_figure
from .checks import VERDICTS, CheckResult
from .table import summarize, trial_time


def _markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "–" if math.isnan(v) else f"{v:.3g}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class Section:
    """A study's markdown and the verdicts of its claim checks."""

    name: str
    text: str
    checks: tuple[CheckResult, ...] = ()
    partial: bool = False


# The page's order, whatever order the stores are given in (``algoreg report results/*``): the
# depth-vs-nuclear-norm results first, then the ratio penalty and its ablations, then real data
# and ordinary networks. A study not named here follows these, in the order it was given.
PAGE_ORDER = (
    "arora2019-completion",
    "arora2019-sensing",
    "arora2019-sensing-depth2",
    "arora2019-dynamics",
    "gunasekar2017",
    "gunasekar2017-sensing",
    "razin2020",
    "zhao2022-penalty",
    "zhao2022-svd-check",
    "adam-ablation",
    "nonlinear-factorization",
    "movielens100k",
    "scale",
    "jiang2023",
    "jiang2023-width",
    "jiang2023-noisy",
    "jiang2023-completion",
    "du2018",
    "du2018-relu",
    "ma2023",
    "ma2023-rank1",
    "ma2023-gaussian",
    "deephoyer-digits",
    "lowrank-digits",
    "linear-endtoend",
    "weylandt2020",
    "weylandt2020-cuts",
    "weylandt2020-cbass",
)


def _source(directory: str | Path, relative_to: Path) -> str:
    """Where the section's numbers come from: an archive (a file kept beside the page, e.g.
    in git) as a link relative to the page, a working study directory by its name."""
    from ..studies.archive import is_archive

    if is_archive(directory):
        return f"[`{directory}`](<{Path(os.path.relpath(directory, relative_to)).as_posix()}>)"
    return f"`{directory}`"


def study_section(directory: str | Path, figures: Path, relative_to: Path) -> Section:
    """One study's section (its figure is written into ``figures``)."""
    with load_report(directory) as report:
        return _study_section(report, _source(directory, relative_to), figures, relative_to)


def study_markdown(report: StudyReport, directory: Path) -> Path:
    """A study's section as ``report.md`` in its directory (what ``algoreg reproduce`` writes
    beside ``figure.png``, which it has drawn already)."""
    out = directory / "report.md"
    figure = [directory / "figure.png"]
    section = _study_section(report, f"`{directory}`", directory, directory, figure)
    out.write_text(section.text)
    return out


def _study_section(
    report: StudyReport,
    source: str,
    figures: Path,
    relative_to: Path,
    drawn: Sequence[Path] | None = None,
) -> Section:
    study, rows, name = report.meta, report.rows, report.name
    out = [f"## {name}", ""]
    if study.get("description"):
        out += [study["description"] + ".", ""]
    seeds = len(study.get("seeds", []))
    statuses = summarize(rows, ["status"], "steps")
    counts = ", ".join(f"{s['status']} {s['n'] + s['n_missing']}" for s in statuses)
    spent = trial_time(rows)
    out += [
        f"Trials: {len(rows)} (how they ended: {counts}); seeds per setting: {seeds};"
        f" trial time summed over trials: {spent}; store: {source}.",
        "",
    ]
    partial = report.planned > len(rows)
    if partial:
        out += [
            f"**Partial:** {report.planned - len(rows)} of the study's {report.planned} trials"
            " have not run yet, so the table and figure below cover only the finished ones;"
            " rerunning the study's command resumes it.",
            "",
        ]
    if study.get("claim"):
        out += [f"**{report.spec['claim_label']}:** {study['claim']}", ""]
    if not rows:
        return Section(name, "\n".join([*out, "No finished trials.", ""]))
    out += [f"**We measured:** {report.measured}", ""]
    if report.checks:
        scope = " (on the finished trials only)" if partial else ""
        out += [f"**Checked against the claim{scope}:**", ""]
        out += [f"- {c.line()}" for c in report.checks] + [""]
    out += [
        report.note,
        "",
        _markdown_table(report.table, report.columns),
        "",
    ]
    paths = drawn or write_figure(report, figures / name)
    rel = os.path.relpath(paths[0], relative_to)
    out += [f"![{name}]({rel})", ""]
    return Section(name, "\n".join(out), report.checks, partial)


def write_results(directories: Sequence[str | Path], out: str | Path) -> Path:
    """Write the results page for the given study directories, in :data:`PAGE_ORDER`;
    return its path."""
    out = Path(out)
    figures = out.parent / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    today = _dt.date.today().isoformat()
    head = [
        "# Results",
        "",
        f"Generated by `algoreg report` on {today} from {len(directories)} study store(s). "
        "Each section quotes the literature's claim and the numbers measured here; "
        "rerun the studies and this command to refresh it.",
        "",
    ]
    built = [study_section(d, figures, out.parent) for d in directories]
    sections = [s for _, s in in_page_order([(s.name, s) for s in built], directories)]
    out.write_text("\n".join([*head, *overview(sections), *(s.text for s in sections)]))
    return out


T = TypeVar("T")


def in_page_order(
    items: Sequence[tuple[str, T]], sources: Sequence[str | Path]
) -> list[tuple[str, T]]:
    """``(study name, item)`` pairs in :data:`PAGE_ORDER` (a study not named there after them,
    as given); ``sources[i]`` is where item i came from (a study given twice is an error)."""
    seen: dict[str, str | Path] = {}
    for (name, _), d in zip(items, sources, strict=True):
        if name in seen:  # e.g. a study directory and its archive: one section each
            raise ConfigError(
                f"{seen[name]} and {d} both hold the study {name!r}: give each study "
                "once (its directory or its archive; `algoreg merge` joins shards first)"
            )
        seen[name] = d
    rank = {name: i for i, name in enumerate(PAGE_ORDER)}
    return sorted(items, key=lambda item: rank.get(item[0], len(rank)))  # stable


def overview(sections: Sequence[Section]) -> list[str]:
    """The "At a glance" table: every claim check of the page, with the verdict counts."""
    rows = [(s, c) for s in sections for c in s.checks]
    if not rows:
        return []
    counts = Counter(c.verdict for _, c in rows)
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    plural = "s" if len(rows) > 1 else ""
    lines = [
        "## At a glance",
        "",
        f"{len(rows)} claim check{plural}: {tally}. A study marked *partial* has unfinished"
        " trials; its verdicts cover the finished ones. The numbers behind each verdict are in"
        " the study's section.",
        "",
        "| study | check | verdict |",
        "|---|---|---|",
    ]
    for s, c in rows:
        study = f"[{s.name}](#{s.name})" + (" (partial)" if s.partial else "")
        says = c.says.replace("|", "\\|")  # a literal | would end the table cell
        lines.append(f"| {study} | {says} | {c.verdict} |")
    return [*lines, ""]


__all__ = [
    "PAGE_ORDER",
    "Section",
    "in_page_order",
    "overview",
    "study_markdown",
    "study_section",
    "write_results",
]
