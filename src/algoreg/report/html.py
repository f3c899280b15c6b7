"""The interactive results page: one self-contained HTML file (no server, no network: Plotly's
JavaScript, the page's own script and its styles are inlined) per report.

Per study, from the same :class:`~algoreg.report.analysis.StudyReport` that
``docs/results.md`` is written from (so the same table, verdicts and headline): the study file
and claim, the claim checks with their verdicts, the summary table, the summary figure
(interactive: hover names a trial, clicking a point opens it, the legend toggles series), a
table of every trial that sorts and filters, a trial view (the clicked trial's logged history:
losses and errors, effective rank, singular values with the gradient-flow prediction where
logged, balancedness) and a comparison of the trials ticked in the table.

Plotly rather than Vega-Lite: the ``plotly`` Python package ships ``plotly.min.js`` (one file,
inlined once per page, ≈ 4.6 MB), so the page needs no download at build time or when opened;
Vega-Lite needs three runtimes (vega, vega-lite, vega-embed) that no Python package we use
bundles. Only the JavaScript is used: figures are written here as plain JSON specs.

A kind of study can add a section of its own (e.g. a clustering study's path view):
:func:`register_section` maps a ``[model] kind`` to a function of the report that returns HTML
(scripts included; ``Plotly`` is loaded first, and the page dispatches an ``algoreg:trial``
event with ``detail.id`` on the study's ``<section>`` when a trial is opened).
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .analysis import StudyReport, load_report
from .checks import VERDICTS, CheckResult
from .interactive import figure_spec
from .payload import history_payload, trial_payload
from .table import summarize, trial_time

SectionRenderer = Callable[[StudyReport], str]
SECTION_RENDERERS: dict[str, SectionRenderer] = {}
PAGER = "<!--pager-->"  # where a section's links go once the page order is known
SYMBOLS = {"agrees": "✓", "partly": "◐", "disagrees": "✗", "not measured": "?"}


def register_section(kind: str, render: SectionRenderer) -> SectionRenderer:
    """Let studies of ``[model] kind`` add ``render(report)``'s HTML to their section (after
    the trial views). One renderer per kind; registering another for it is an error."""
    if SECTION_RENDERERS.get(kind, render) is not render:
        raise ConfigError(f"an HTML section renderer for kind {kind!r} is registered already")
    SECTION_RENDERERS[kind] = render
    return render


def _builtin_sections() -> None:
    """Register the sections the package itself provides (once): convex clustering's path
    views (:mod:`algoreg.clustering.report_section`)."""
    if "convex_clustering" not in SECTION_RENDERERS:
        from ..clustering.report_section import render

        register_section("convex_clustering", render)


def plotly_js() -> str:
    """Plotly's bundled JavaScript (a clear error when the ``report`` extra is missing)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise ConfigError(
            "the HTML report needs plotly (its JavaScript is inlined into the page): "
            "pip install 'algoreg[report]'"
        ) from None
    return get_plotlyjs()


def _asset(name: str) -> str:
    return resources.files("algoreg.report").joinpath("assets", name).read_text("utf-8")


def _text(value: Any) -> str:
    """Plain text of a study file as HTML: escaped, with `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(value)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.3g}"
    return "" if value is None else html.escape(str(value))


def _json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _checks(checks: Sequence[CheckResult], partial: bool) -> list[str]:
    if not checks:
        return []
    scope = " (on the finished trials only)" if partial else ""
    out = [f"<h3>Checked against the claim{scope}</h3>", '<ul class="checks">']
    for c in checks:
        slug = c.verdict.replace(" ", "-")
        details = "; ".join(c.comparisons)
        out.append(
            f'<li class="check v-{slug}"><span class="verdict">{SYMBOLS[c.verdict]} '
            f"{c.verdict}</span> {_text(c.says)}"
            + (f'<div class="comparisons">{_text(details)}</div>' if details else "")
            + "</li>"
        )
    return [*out, "</ul>"]


def _summary_table(report: StudyReport) -> str:
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in report.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in report.columns) + "</tr>"
        for r in report.table
    )
    return (
        f'<div class="table-wrap"><table class="summary"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


@dataclass(frozen=True)
class HtmlSection:
    """A study's HTML and what the page's overview needs of it."""

    name: str
    text: str
    checks: tuple[CheckResult, ...] = ()
    partial: bool = False


def study_section(report: StudyReport, source: str, *, links: str = "") -> HtmlSection:
    """One study's ``<section>``: text, checks, summary table and figure, trials table, trial
    and comparison views, and the JSON they are drawn from; ``source`` is the store's name
    (HTML), ``links`` the navigation between sections."""
    study, rows, name = report.meta, report.rows, report.name
    anchor = html.escape(name)
    out = [f'<section class="study" id="{anchor}" data-study="{anchor}">', f"<h2>{anchor}</h2>"]
    out += [links] if links else []
    if study.get("description"):
        out.append(f"<p>{_text(study['description'])}.</p>")
    statuses = summarize(rows, ["status"], "steps")
    counts = ", ".join(f"{s['status']} {s['n'] + s['n_missing']}" for s in statuses)
    out.append(
        f'<p class="meta">Trials: {len(rows)} (how they ended: {html.escape(counts)}); seeds per'
        f" setting: {len(study.get('seeds', []))}; trial time summed over trials:"
        f" {trial_time(rows)}; store: {source}.</p>"
    )
    partial = report.planned > len(rows)
    if partial:
        out.append(
            f'<p class="partial"><strong>Partial:</strong> {report.planned - len(rows)} of the'
            f" study's {report.planned} trials have not run yet; what follows covers the"
            " finished ones.</p>"
        )
    if study.get("claim"):
        out.append(
            f"<p><strong>{_text(report.spec['claim_label'])}:</strong> {_text(study['claim'])}</p>"
        )
    if not rows:
        out += ["<p>No finished trials.</p>", "</section>"]
        return HtmlSection(name, "\n".join(out))
    out.append(f"<p><strong>We measured:</strong> {_text(report.measured)}</p>")
    out += _checks(report.checks, partial)
    out += [f"<p>{_text(report.note)}</p>", _summary_table(report)]
    histories = history_payload(report)
    figure = figure_spec(report, histories)
    payload = {
        "name": name,
        "hue": "method_family" if report.tuned else report.spec["hue"],
        "log_steps": bool(report.spec["logx"] and report.spec["x"] == "step")
        or report.spec["plot"] == "spectrum",
        "figure": figure,
        "trials": trial_payload(report),
        "histories": histories,
    }
    if figure:
        out += [
            "<h3>Figure</h3>",
            '<div class="figure" role="img" aria-label="summary figure of '
            f'{anchor}: hover a point for its trial, click it to open the trial"></div>',
            '<p class="hint">Hover a point for its trial and numbers; click it to open the'
            " trial below; click a legend entry to hide or show that series (double-click: only"
            " it). Diverged and failed trials are left out of the figure (they are in the"
            " table).</p>",
        ]
    out += _trials_block()
    _builtin_sections()
    extra = SECTION_RENDERERS.get(str(rows[0].get("model.kind", "")))
    if extra is not None:
        out.append(extra(report))
    out += [f'<script type="application/json" class="study-data">{_json(payload)}</script>']
    out.append("</section>")
    return HtmlSection(name, "\n".join(out), report.checks, partial)


def _trials_block() -> list[str]:
    return [
        "<h3>Trials</h3>",
        '<div class="controls">'
        '<label>Filter <input type="search" class="filter" placeholder="e.g. adam diverged"'
        ' aria-label="filter trials: every word must appear in the row"></label>'
        ' <span class="count" aria-live="polite"></span>'
        ' <button type="button" class="compare-button">Compare ticked trials</button>'
        ' <button type="button" class="clear-button">Untick all</button></div>',
        '<p class="hint">Sort by clicking a column header; open a trial by clicking its row'
        " (or Enter on it); tick rows to compare them. ⚠ diverged and ✗ failed trials are"
        " marked; ★ marks the settings the table chose.</p>",
        '<div class="table-wrap trials-wrap"><table class="trials"><thead></thead>'
        "<tbody></tbody></table></div>",
        "<h3>Trial view</h3>",
        '<div class="trial-view" aria-live="polite"><p class="hint">Click a trial in the table'
        " or the figure to see its history.</p></div>",
        "<h3>Comparison</h3>",
        '<div class="compare-view"><p class="hint">Tick two or more trials in the table and'
        " press “Compare ticked trials”.</p></div>",
    ]


def overview(sections: Sequence[HtmlSection]) -> str:
    """The "At a glance" table: every claim check of the page with its verdict."""
    rows = [(s, c) for s in sections for c in s.checks]
    if not rows:
        return ""
    counts = Counter(c.verdict for _, c in rows)
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    body = "".join(
        f'<tr class="v-{c.verdict.replace(" ", "-")}"><td><a href="#{html.escape(s.name)}">'
        f"{html.escape(s.name)}</a>{' (partial)' if s.partial else ''}</td>"
        f"<td>{_text(c.says)}</td><td>{SYMBOLS[c.verdict]} {c.verdict}</td></tr>"
        for s, c in rows
    )
    return (
        '<section id="at-a-glance"><h2>At a glance</h2>'
        f"<p>{len(rows)} claim checks: {tally}.</p>"
        '<div class="table-wrap"><table class="glance"><thead><tr><th scope="col">study</th>'
        '<th scope="col">check</th><th scope="col">verdict</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def page(title: str, intro: str, body: Sequence[str]) -> str:
    """A whole page: styles, Plotly, the body, then the page's script (all inlined)."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_asset('report.css')}</style>",
            f"<script>{plotly_js()}</script>",
            "</head><body>",
            f'<header id="top"><h1>{html.escape(title)}</h1><p>{intro}</p></header>',
            "<main>",
            *body,
            "</main>",
            f"<script>{_asset('report.js')}</script>",
            "</body></html>",
        ]
    )


def _source(directory: str | Path, relative_to: Path) -> str:
    from ..studies.archive import is_archive

    if is_archive(directory):
        href = Path(os.path.relpath(directory, relative_to)).as_posix()
        return f'<a href="{html.escape(href)}"><code>{html.escape(str(directory))}</code></a>'
    return f"<code>{html.escape(str(directory))}</code>"


def write_study_html(report: StudyReport, directory: str | Path, out: str | Path) -> Path:
    """One study's page (what ``algoreg reproduce`` writes beside its table)."""
    out = Path(out)
    plotly_js()  # the error, before any work
    section = study_section(report, _source(directory, out.parent))
    where = _source(directory, out.parent)
    intro = f"Generated by <code>algoreg</code> on {time.strftime('%Y-%m-%d')} from {where}."
    out.write_text(page(report.name, intro, [overview([section]), section.text]), "utf-8")
    return out


def write_html(directories: Sequence[str | Path], out: str | Path) -> Path:
    """The whole results page for the study stores, in the page order of ``docs/results.md``
    (:data:`~algoreg.report.markdown.PAGE_ORDER`), with links between sections."""
    from .markdown import in_page_order

    out = Path(out)
    plotly_js()
    out.parent.mkdir(parents=True, exist_ok=True)
    built = []
    for d in directories:
        with load_report(d) as report:
            built.append((report.name, study_section(report, _source(d, out.parent), links=PAGER)))
    order = [s for _, s in in_page_order(built, [d for d in directories])]
    sections = []
    for i, s in enumerate(order):
        prev = order[i - 1].name if i else None
        nxt = order[i + 1].name if i + 1 < len(order) else None
        sections.append(dataclasses.replace(s, text=s.text.replace(PAGER, _links(prev, nxt), 1)))
    toc = "".join(
        f'<li><a href="#{html.escape(s.name)}">{html.escape(s.name)}</a>'
        + _tally(s.checks)
        + "</li>"
        for s in sections
    )
    intro = (
        f"Generated by <code>algoreg report</code> on {time.strftime('%Y-%m-%d')} from"
        f" {len(sections)} study store(s): the same sections, tables and verdicts as"
        " <code>docs/results.md</code>, with every trial, its history and interactive figures."
    )
    nav = f'<nav aria-label="studies"><h2>Studies</h2><ol class="toc">{toc}</ol></nav>'
    body = [nav, overview(sections), *(s.text for s in sections)]
    out.write_text(page("Results", intro, body), "utf-8")
    return out


def _links(prev: str | None, nxt: str | None) -> str:
    parts = ['<a href="#top">↑ top</a>', '<a href="#at-a-glance">at a glance</a>']
    if prev:
        parts.insert(0, f'<a href="#{html.escape(prev)}">← {html.escape(prev)}</a>')
    if nxt:
        parts.append(f'<a href="#{html.escape(nxt)}">{html.escape(nxt)} →</a>')
    return '<nav class="pager">' + " · ".join(parts) + "</nav>"


def _tally(checks: Sequence[CheckResult]) -> str:
    if not checks:
        return ""
    counts = Counter(c.verdict for c in checks)
    return (
        ' <span class="tally">('
        + ", ".join(f"{SYMBOLS[v]} {counts[v]} {v}" for v in VERDICTS if counts[v])
        + ")</span>"
    )


__all__ = [
    "SECTION_RENDERERS",
    "HtmlSection",
    "overview",
    "plotly_js",
    "register_section",
    "study_section",
    "write_html",
    "write_study_html",
]
