"""A study's summary figure as a Plotly figure spec (``{"data": [...], "layout": {...}}``):
the same rows, facets and series looks as the static figure (:mod:`.plot`, :mod:`.style`),
plus one point per trial that names the trial on hover and opens it on click (each point's
``customdata`` starts with its trial id). Legend entries group a series' line and its trials,
so clicking one hides or shows the method."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .analysis import StudyReport, chosen_rows
from .payload import chosen_ids, exact, rounded
from .plot import log_natural, spread_over
from .style import (
    PLOTLY_DASHES,
    PLOTLY_MARKERS,
    Look,
    choose_facet,
    facet_title,
    facets,
    series_looks,
)
from .table import sort_key, summarize, usable

Spec = dict[str, Any]


def figure_spec(report: StudyReport, histories: dict[str, dict[str, Any]]) -> Spec | None:
    """The interactive form of the study's figure (None without a usable trial)."""
    spec = report.spec
    rows = [r for r in chosen_rows(report) if usable(r)]
    if not rows:
        return None
    hue = "method_family" if report.tuned else spec["hue"]
    if spec["plot"] == "history":
        return _history(rows, histories, spec, hue)
    if spec["plot"] == "spectrum":
        return _spectrum(rows, histories, hue)
    if spec["plot"] == "tradeoff":
        return _tradeoff(report, [r for r in report.rows if usable(r)], spec)
    return _summary(rows, spec, hue)


def _hover(row: dict[str, Any], names: Sequence[str]) -> list[Any]:
    return [row["trial_id"], row.get("method"), *(exact(row.get(n)) for n in names)]


def _template(names: Sequence[str]) -> str:
    lines = ["<b>trial %{customdata[0]}</b>", "%{customdata[1]}"]
    lines += [f"{n} = %{{customdata[{i + 2}]:.4g}}" for i, n in enumerate(names)]
    return "<br>".join(lines) + "<extra></extra>"


def _panels(n: int, titles: list[str], *, share_y: bool = True) -> Spec:
    """A layout of ``n`` side-by-side panels (x axes xaxis, xaxis2, …; y axes likewise)."""
    gap = 0.06 if n > 1 else 0.0
    width = (1 - gap * (n - 1)) / n
    layout: Spec = {
        "margin": {"l": 70, "r": 10, "t": 40, "b": 50},
        "hovermode": "closest",
        "legend": {"orientation": "v", "x": 1.02, "y": 1, "xanchor": "left"},
        "height": 440,
        "annotations": [],
    }
    for i in range(n):
        suffix = "" if i == 0 else str(i + 1)
        lo = i * (width + gap)
        layout[f"xaxis{suffix}"] = {"domain": [lo, lo + width], "anchor": f"y{suffix}"}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}"}
        if i and share_y:
            layout[f"yaxis{suffix}"]["matches"] = "y"
            layout[f"yaxis{suffix}"]["showticklabels"] = False
        if titles[i]:
            layout["annotations"].append(
                {
                    "text": titles[i],
                    "x": lo + width / 2,
                    "y": 1.0,
                    "xref": "paper",
                    "yref": "paper",
                    "yanchor": "bottom",
                    "showarrow": False,
                }
            )
    return layout


def _axes(i: int) -> Spec:
    suffix = "" if i == 0 else str(i + 1)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def _positive(rows: Sequence[dict[str, Any]], y: str) -> bool:
    vals = [float(v) for r in rows if isinstance(v := r.get(y), int | float)]
    return all(v > 0 for v in vals if not math.isnan(v))


def _line(look: Look) -> Spec:
    return {"color": look.color, "dash": PLOTLY_DASHES[look.dash]}


def _marker(look: Look, size: int = 8, **extra: Any) -> Spec:
    return {"color": look.color, "symbol": PLOTLY_MARKERS[look.marker], "size": size, **extra}


def _summary(rows: list[dict[str, Any]], spec: Spec, hue: str) -> Spec:
    """Mean ± sd against x per series (a dot chart at a single x), facets as the static
    figure, and every trial as a small point."""
    x, y = spec["x"], spec["y"]
    over = spread_over(spec.get("replicates", ()))
    facet = choose_facet(rows, hue, spec.get("facet"), x)
    looks = series_looks(rows, hue, facet)
    panels = facets(rows, facet)
    single = len({r.get(x) for r in rows}) <= 1
    titles = [facet_title(facet, v) if facet else "" for v, _ in panels]
    layout = _panels(len(panels), titles, share_y=not single)
    log = log_natural(y) and _positive(rows, y)
    data: list[Spec] = []
    shown: set = set()
    for i, (_, members) in enumerate(panels):
        axes = _axes(i)
        suffix = "" if i == 0 else str(i + 1)
        summary = summarize(members, [hue, x], y)
        hues = sorted({s[hue] for s in summary}, key=sort_key)
        for h in hues:
            look, name = looks[h], str(h)
            pts = sorted((s for s in summary if s[hue] == h), key=lambda s: sort_key(s[x]))
            mean = rounded([p[f"{y}_mean"] for p in pts])
            sd = rounded([p[f"{y}_sd"] for p in pts])
            trials = [r for r in members if r.get(hue) == h]
            hover = _hover_names(x, y, single)
            if single:  # the dot chart: series on the y axis, y on the x axis
                line = {"x": mean, "y": [name] * len(pts), "error_x": _err(sd)}
                dots = {"x": [exact(r.get(y)) for r in trials], "y": [name] * len(trials)}
            else:
                line = {"x": [p[x] for p in pts], "y": mean, "error_y": _err(sd)}
                dots = {
                    "x": [exact(r.get(x)) for r in trials],
                    "y": [exact(r.get(y)) for r in trials],
                }
            data.append(
                {
                    **line,
                    **axes,
                    "type": "scatter",
                    "mode": "markers" if single else "lines+markers",
                    "name": name,
                    "legendgroup": name,
                    "showlegend": name not in shown,
                    "line": _line(look),
                    "marker": _marker(look, 10 if single else 8),
                    "hovertemplate": f"<b>{name}</b><br>mean %{{{'x' if single else 'y'}:.4g}}"
                    f" ± %{{customdata[0]:.3g}} (sd over {over})<extra></extra>",
                    "customdata": [[v] for v in sd],
                }
            )
            shown.add(name)
            data.append(
                {
                    **dots,
                    **axes,
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{name} (trials)",
                    "legendgroup": name,
                    "showlegend": False,
                    "marker": _marker(look, 6, opacity=0.55),
                    "customdata": [_hover(r, hover) for r in trials],
                    "hovertemplate": _template(hover),
                }
            )
        if single:
            layout[f"xaxis{suffix}"].update(title={"text": f"{y} (mean ± sd over {over})"})
            if log:
                layout[f"xaxis{suffix}"]["type"] = "log"
            layout[f"yaxis{suffix}"].update(autorange="reversed", automargin=True)
        else:
            layout[f"xaxis{suffix}"]["title"] = {"text": x}
            if spec.get("logx"):
                layout[f"xaxis{suffix}"]["type"] = "log"
            if log:
                layout[f"yaxis{suffix}"]["type"] = "log"
    if not single:
        layout["yaxis"]["title"] = {"text": f"{y} (mean ± sd over {over})"}
    layout["height"] = max(320, 60 + 36 * len(looks)) if single else 440
    return {"data": data, "layout": layout}


def _hover_names(x: str, y: str, single: bool) -> list[str]:
    return [y] if single else [x, y]


def _err(sd: list[Any]) -> Spec:
    return {"type": "data", "array": [0 if v is None else v for v in sd], "visible": True}


def _history(
    rows: list[dict[str, Any]], histories: dict[str, dict[str, Any]], spec: Spec, hue: str
) -> Spec:
    """``y`` against the step from each trial's (downsampled) history, a colour per series."""
    x, y = spec["x"], spec["y"]
    looks = series_looks(rows, hue)
    layout = _panels(1, [""])
    data: list[Spec] = []
    shown: set = set()
    for r in sorted(rows, key=lambda r: sort_key(r.get(hue))):
        h = histories.get(r["trial_id"], {})
        if x not in h or y not in h:
            continue
        look, name = looks[r[hue]], str(r[hue])
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": h[x],
                "y": h[y],
                "name": name,
                "legendgroup": name,
                "showlegend": name not in shown,
                "line": _line(look),
                "customdata": [[r["trial_id"], r.get("method")]] * len(h[x]),
                "hovertemplate": "<b>trial %{customdata[0]}</b><br>%{customdata[1]}<br>"
                f"{x} = %{{x}}<br>{y} = %{{y:.4g}}<extra></extra>",
            }
        )
        shown.add(name)
    if spec["logx"] if spec["logx"] is not None else log_natural(x):
        layout["xaxis"]["type"] = "log"
    if log_natural(y):
        layout["yaxis"]["type"] = "log"
    layout["xaxis"]["title"] = {"text": x}
    layout["yaxis"]["title"] = {"text": y}
    return {"data": data, "layout": layout}


def _spectrum(
    rows: list[dict[str, Any]], histories: dict[str, dict[str, Any]], hue: str, top: int = 5
) -> Spec:
    """Each series' first trial: its top singular values over steps, one panel per series,
    with the gradient-flow prediction (dotted) where logged."""
    first: dict[Any, dict[str, Any]] = {}
    for r in rows:
        first.setdefault(r[hue], r)
    keys = sorted(first, key=sort_key)
    layout = _panels(len(keys), [str(k) for k in keys])
    data: list[Spec] = []
    markers = list(PLOTLY_MARKERS.values())
    for i, key in enumerate(keys):
        r = first[key]
        h = histories.get(r["trial_id"], {})
        if "sv" not in h:
            continue
        steps = [max(s, 1) for s in h["step"]]
        for j in range(min(top, len(h["sv"][0]))):
            name = f"σ{j + 1}"
            custom = [[r["trial_id"], r.get("method")]] * len(steps)
            data.append(
                {
                    **_axes(i),
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": steps,
                    "y": [p[j] for p in h["sv"]],
                    "name": name,
                    "legendgroup": name,
                    "showlegend": i == 0,
                    "line": {"color": _SEQ[j % len(_SEQ)]},
                    "marker": {"symbol": markers[j % len(markers)], "size": 4},
                    "customdata": custom,
                    "hovertemplate": "<b>trial %{customdata[0]}</b><br>%{customdata[1]}<br>"
                    f"step %{{x}}<br>{name} = %{{y:.4g}}<extra></extra>",
                }
            )
            if "sv_flow" in h:
                data.append(
                    {
                        **_axes(i),
                        "type": "scatter",
                        "mode": "lines",
                        "x": steps,
                        "y": [p[j] for p in h["sv_flow"]],
                        "name": "gradient-flow prediction",
                        "legendgroup": "flow",
                        "showlegend": i == 0 and j == 0,
                        "line": {"color": "#000000", "dash": "dot", "width": 1},
                        "customdata": custom,
                        "hovertemplate": f"flow prediction of {name}: %{{y:.4g}}<extra></extra>",
                    }
                )
        suffix = "" if i == 0 else str(i + 1)
        layout[f"xaxis{suffix}"].update(type="log", title={"text": "step"})
    layout["yaxis"]["title"] = {"text": f"top {top} singular values"}
    return {"data": data, "layout": layout}


# σ1 … σ5: dark to light (viridis-like, distinguishable in grey too), markers differ as well
_SEQ = ("#440154", "#3b528b", "#21918c", "#5ec962", "#b5a300")


def _tradeoff(report: StudyReport, rows: list[dict[str, Any]], spec: Spec) -> Spec:
    """Every trial at its (x, y), a colour and marker per series; the chosen settings' means
    as stars."""
    x, y, hue = spec["x"], spec["y"], spec["hue"]
    looks = series_looks(rows, hue)
    layout = _panels(1, [""])
    data: list[Spec] = []
    chosen = chosen_ids(report)
    for h, look in looks.items():
        members = [r for r in rows if r.get(hue) == h]
        name = str(h)
        for picked in (False, True):
            pts = [r for r in members if (r["trial_id"] in chosen) is picked]
            if not pts:
                continue
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "x": [exact(r.get(x)) for r in pts],
                    "y": [exact(r.get(y)) for r in pts],
                    "name": name if not picked else f"{name}: chosen ★",
                    "legendgroup": name,
                    "marker": _marker(look, 14, line={"color": "#000", "width": 1})
                    if picked
                    else _marker(look, 7, opacity=0.6),
                    "customdata": [_hover(r, [x, y]) for r in pts],
                    "hovertemplate": _template([x, y]),
                }
            )
            if picked:
                data[-1]["marker"]["symbol"] = "star"
    if spec["logx"]:
        layout["xaxis"]["type"] = "log"
    if log_natural(y) and _positive(rows, y):
        layout["yaxis"]["type"] = "log"
    layout["xaxis"]["title"] = {"text": x}
    layout["yaxis"]["title"] = {"text": y}
    return {"data": data, "layout": layout}


__all__ = ["figure_spec"]
