"""How a study's series look, the same in the static figures and the HTML report: one colour
per penalty (or per series), one marker per optimizer, a dash per series within a panel, on the
colour-blind-safe Okabe–Ito palette; and how series split into panels (facets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .table import sort_key

# Okabe & Ito (2008), "Color universal design": distinguishable under the common colour-vision
# deficiencies.
OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow: faint on white, so last
)
# matplotlib marker codes and their Plotly names, in the same order
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
PLOTLY_MARKERS = {
    "o": "circle",
    "s": "square",
    "^": "triangle-up",
    "D": "diamond",
    "v": "triangle-down",
    "P": "cross",
    "X": "x",
    "*": "star",
}
DASHES = ("-", "--", ":", "-.")
PLOTLY_DASHES = {"-": "solid", "--": "dash", ":": "dot", "-.": "dashdot"}
MAX_SERIES = 6  # per panel: beyond this a figure should facet


@dataclass(frozen=True)
class Look:
    """One series' colour, marker and dash."""

    color: str
    marker: str
    dash: str


def _kinds(rows: Sequence[dict[str, Any]], hue: str, column: str) -> dict[Any, Any] | None:
    """Each hue value's one value of ``column``, when every series has exactly one and they
    are not all the same (else the column does not tell the series apart)."""
    seen: dict[Any, set] = {}
    for r in rows:
        value = r.get(column, "none")
        seen.setdefault(r.get(hue), set()).add(str(value) if isinstance(value, list) else value)
    if any(len(v) != 1 for v in seen.values()):
        return None
    one = {h: next(iter(v)) for h, v in seen.items()}
    return one if len(set(one.values())) > 1 else None


def series_looks(
    rows: Sequence[dict[str, Any]], hue: str, facet: str | None = None
) -> dict[Any, Look]:
    """A look per value of ``hue``: colour by ``penalty.kind`` and marker by
    ``optimizer.kind`` when each series has one of those and they vary; otherwise colour and
    marker cycle by series (so two series never share both). Series that share a colour and a
    marker within one panel (of ``facet``) get different dashes."""
    hues = sorted({r.get(hue) for r in rows}, key=sort_key)
    penalty, optimizer = _penalty_kinds(rows, hue), _optimizer_kinds(rows, hue)
    colors = _index(penalty) if penalty else {h: i for i, h in enumerate(hues)}
    markers = _index(optimizer) if optimizer else {h: i for i, h in enumerate(hues)}
    looks: dict[Any, Look] = {}
    panel = {r.get(hue): r.get(facet) for r in rows} if facet else {}
    used: dict[tuple, int] = {}
    for h in hues:
        c = OKABE_ITO[colors[h] % len(OKABE_ITO)]
        m = MARKERS[(markers[h] + (colors[h] // len(OKABE_ITO) if not optimizer else 0)) % 8]
        n = used.get((panel.get(h), c, m), 0)
        used[(panel.get(h), c, m)] = n + 1
        looks[h] = Look(c, m, DASHES[n % len(DASHES)])
    return looks


def _penalty_kinds(rows: Sequence[dict[str, Any]], hue: str) -> dict[Any, Any] | None:
    """Each series' penalty: ``penalty.kind``, or a network protocol's ``model.penalty``."""
    return _kinds(rows, hue, "penalty.kind") or _kinds(rows, hue, "model.penalty")


def _optimizer_kinds(rows: Sequence[dict[str, Any]], hue: str) -> dict[Any, Any] | None:
    """Each series' optimizer: ``optimizer.kind``, or a network protocol's ``model.optimizer``."""
    return _kinds(rows, hue, "optimizer.kind") or _kinds(rows, hue, "model.optimizer")


def _index(kinds: dict[Any, Any]) -> dict[Any, int]:
    order = {k: i for i, k in enumerate(sorted(set(kinds.values()), key=_kind_order))}
    return {h: order[k] for h, k in kinds.items()}


def _kind_order(kind: Any) -> tuple:
    return (0, "") if kind == "none" else (1, str(kind))  # "no penalty" first


def legend_keys(rows: Sequence[dict[str, Any]], hue: str) -> dict[str, dict[Any, Look]] | None:
    """When colour means the penalty and marker the optimizer: the two keys of a legend
    ({"penalty": {kind: look}, "optimizer": {kind: look}}); else None (one entry per series)."""
    penalty, optimizer = _penalty_kinds(rows, hue), _optimizer_kinds(rows, hue)
    if not (penalty and optimizer):
        return None
    looks = series_looks(rows, hue)
    out: dict[str, dict[Any, Look]] = {"penalty": {}, "optimizer": {}}
    for h, look in looks.items():
        out["penalty"].setdefault(penalty[h], Look(look.color, "", "-"))
        out["optimizer"].setdefault(optimizer[h], Look("#555555", look.marker, ""))
    return {k: dict(sorted(v.items(), key=lambda kv: _kind_order(kv[0]))) for k, v in out.items()}


def facets(rows: Sequence[dict[str, Any]], facet: str | None) -> list[tuple[Any, list]]:
    """The panels of a figure: (value of ``facet``, its rows) in order, or one panel of all
    rows without a facet."""
    if not facet:
        return [(None, list(rows))]
    groups: dict[Any, list] = {}
    for r in rows:
        groups.setdefault(r.get(facet), []).append(r)
    return sorted(groups.items(), key=lambda kv: sort_key(kv[0]))


def choose_facet(
    rows: Sequence[dict[str, Any]], hue: str, facet: str | None, x: str | None = None
) -> str | None:
    """The column to facet by: ``facet`` when the ``[report]`` spec names one; else, when there
    are more than :data:`MAX_SERIES` series and more than one ``x`` (a dot chart lists its
    series on an axis), the column constant within each series and set for every trial (a
    config column other than ``x`` and the penalty and optimizer kinds, which colour and
    marker show) whose panels hold at most that many series, fewest panels first; else none
    (one panel)."""
    if facet:
        return facet
    hues = {r.get(hue) for r in rows}
    if len(hues) <= MAX_SERIES or (x and len({repr(r.get(x)) for r in rows}) <= 1):
        return None
    best: tuple[int, str] | None = None
    columns = sorted(
        {
            k
            for r in rows
            for k in r
            if k.startswith(("model.", "optimizer.", "penalty.", "problem.", "train."))
        }
    )
    for column in columns:
        if column in ("penalty.kind", "optimizer.kind", x) or not _kinds(rows, hue, column):
            continue
        if any(r.get(column) is None for r in rows):  # e.g. Adam's b1: "None" is no panel
            continue
        panels: dict[Any, set] = {}
        for r in rows:
            panels.setdefault(str(r.get(column)), set()).add(r.get(hue))
        if max(len(v) for v in panels.values()) <= MAX_SERIES and (
            best is None or len(panels) < best[0]
        ):
            best = (len(panels), column)
    return best[1] if best else None


def facet_title(facet: str, value: Any) -> str:
    return f"{facet.rpartition('.')[2]} {value}"


__all__ = [
    "DASHES",
    "MARKERS",
    "MAX_SERIES",
    "OKABE_ITO",
    "PLOTLY_DASHES",
    "PLOTLY_MARKERS",
    "Look",
    "choose_facet",
    "facet_title",
    "facets",
    "legend_keys",
    "series_looks",
]
