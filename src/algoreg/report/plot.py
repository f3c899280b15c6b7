"""Paper-style figures from a study store (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .style import (
    DASHES,
    MARKERS,
    OKABE_ITO,
    Look,
    choose_facet,
    facet_title,
    facets,
    legend_keys,
    series_looks,
)
from .table import sort_key, summarize, usable

LOG_NATURAL = (
    "test_error",
    "mse",
    "rel_error",
    "train_loss",
    "objective",
    "wall_s",
    "dist_to_reference",
    "balance_ratio",
    "invariant",
)


def log_natural(name: str) -> bool:
    """Whether a quantity reads best on a log axis: errors, distances, losses, ratios."""
    return name in LOG_NATURAL or name.endswith("_error") or name.startswith(("dist_", "min_dist"))


HIGHER_BETTER = ("success", "ari", "accuracy", "recovered")


def higher_is_better(name: str) -> bool:
    """Whether more of a metric is better (success rates, accuracies, agreement indices); every
    other metric reported here is an error, distance or cost."""
    base = name.removeprefix("es_")
    return base in HIGHER_BETTER or base.endswith(("_acc", "accuracy", "success"))


def spread_over(replicates: Sequence[str] = ()) -> str:
    """What a figure's mean ± sd pools: seeds, after the ``[report] replicates`` columns."""
    return " and ".join([*replicates, "seeds"])


def plot_summary(
    rows: Sequence[dict[str, Any]],
    out: str | Path,
    *,
    x: str = "problem.n_obs",
    y: str = "test_error",
    hue: str = "method",
    title: str = "",
    reference: dict[str, float] | None = None,
    logx: bool | None = None,
    facet: str | None = None,
    replicates: Sequence[str] = (),
) -> list[Path]:
    """Mean ± sd of ``y`` against ``x`` with one line per ``hue`` value; writes PNG and PDF.

    One panel per value of ``facet`` (small multiples, shared y axis); series keep their look
    (:func:`~algoreg.report.style.series_looks`) across panels; the legend sits outside the
    data. With a single ``x`` value the figure is a dot chart: one row per series, the mean
    with its sd as a bar and each trial as a small dot. Log scale on ``y`` for error-like
    metrics; the axis names what the sd pools (seeds and the ``replicates`` columns). Returns
    the written paths.
    """
    plt = pyplot()
    ok = [r for r in rows if usable(r)]
    facet = choose_facet(ok, hue, facet, x)
    looks = series_looks(ok, hue, facet)
    panels = facets(ok, facet)
    single = len({r.get(x) for r in ok}) <= 1
    n = len(panels)
    if single:
        tall = max(len({r[hue] for r in p}) for _, p in panels)
        size = (4.4 * n + 3.0, 1.4 + 0.38 * tall)
    else:
        size = (3.6 * n + 2.6, 4.2) if n > 1 else (8.4, 4.4)
    fig, axes = plt.subplots(
        1, n, figsize=size, sharey=not single, squeeze=False, layout="constrained"
    )
    positive = all(_number_ok(r.get(y)) for r in ok)
    for ax, (value, members) in zip(axes[0], panels, strict=True):
        summary = summarize(members, [hue, x], y)
        hues = sorted({s[hue] for s in summary}, key=sort_key)
        if single:
            _dots(ax, members, summary, hues, looks, hue, y)
        else:
            for h in hues:
                pts = sorted((s for s in summary if s[hue] == h), key=lambda s: sort_key(s[x]))
                xs = [p[x] for p in pts]
                mean = np.array([p[f"{y}_mean"] for p in pts])
                sd = np.array([p[f"{y}_sd"] for p in pts])
                look = looks[h]
                ax.plot(
                    xs, mean, color=look.color, marker=look.marker, ls=look.dash, label=str(h), ms=5
                )
                lo = np.maximum(mean - sd, mean * 1e-3) if log_natural(y) else mean - sd
                ax.fill_between(xs, lo, mean + sd, color=look.color, alpha=0.15, lw=0)
            if logx:
                ax.set_xscale("log")
            ax.set_xlabel(x)
        for label, ref in (reference or {}).items():
            ax.axhline(ref, ls="--", color="gray", lw=1)
            ax.annotate(label, (ax.get_xlim()[0], ref), fontsize=8, color="gray", va="bottom")
        if log_natural(y) and positive:
            (ax.set_xscale if single else ax.set_yscale)("log")
        if facet:
            ax.set_title(facet_title(facet, value), fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    what = f"{y} (mean ± sd over {spread_over(replicates)})"
    if single:
        for ax in axes[0]:
            ax.set_xlabel(what + (f" at {x} = {ok[0].get(x)}" if ok else ""))
    else:
        axes[0][0].set_ylabel(what)
    fig.suptitle(title)
    if not single:  # a dot chart names its rows on the axis
        _legend(fig, ok, hue, looks)
    return _save(fig, out)


def _number_ok(value: Any) -> bool:
    return not isinstance(value, int | float) or math.isnan(value) or value > 0


def _dots(ax, members, summary, hues, looks, hue: str, y: str) -> None:
    """A dot chart: one row per series (top to bottom in order), mean ± sd and each trial."""
    at = {h: len(hues) - 1 - i for i, h in enumerate(hues)}
    for s in summary:
        h, look = s[hue], looks[s[hue]]
        m, sd = s[f"{y}_mean"], s[f"{y}_sd"]
        ax.errorbar(
            [m],
            [at[h]],
            xerr=[[min(sd, m * (1 - 1e-3)) if log_natural(y) else sd], [sd]],
            color=look.color,
            marker=look.marker,
            ms=8,
            capsize=3,
            ls="none",
            label=str(h),
        )
    for r in members:
        v = r.get(y)
        if isinstance(v, int | float) and not math.isnan(v):
            ax.plot(
                [v],
                [at[r[hue]] + 0.18],
                ls="none",
                marker=looks[r[hue]].marker,
                ms=3,
                color=looks[r[hue]].color,
                alpha=0.6,
            )
    ax.set_yticks(list(at.values()), [str(h) for h in at], fontsize=8)
    ax.set_ylim(-0.6, len(hues) - 0.4)


def _legend(fig, rows, hue: str, looks, *, line: bool = True) -> None:
    """The legend outside the data, at the right: penalty colours and optimizer markers as two
    keys when the looks mean those, else one entry per series."""
    from matplotlib.lines import Line2D

    keys = legend_keys(rows, hue)
    if keys and all(k.dash == "-" for k in looks.values()):  # colour × marker names a series
        handles, labels = [], []
        for name, entries in keys.items():
            handles.append(Line2D([], [], ls="none"))
            labels.append(f"$\\bf{{{name}}}$")
            for kind, look in entries.items():
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=look.color,
                        marker=look.marker or None,
                        ls="-" if look.dash else "none",
                        lw=2,
                    )
                )
                labels.append(str(kind))
        fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)
        return
    handles = [
        Line2D([], [], color=k.color, marker=k.marker, ls=k.dash if line else "none")
        for k in looks.values()
    ]
    fig.legend(
        handles,
        [str(h) for h in looks],
        loc="outside right upper",
        fontsize=8,
        frameon=False,
        title=None if hue.startswith("method") else hue,
        title_fontsize=8,
    )


def plot_histories(
    rows: Sequence[dict[str, Any]],
    history: Callable[[str], dict[str, Any]],
    out: str | Path,
    *,
    x: str = "step",
    y: str = "train_loss",
    hue: str = "method",
    title: str = "",
    logx: bool | None = None,
) -> list[Path]:
    """``y`` against ``x`` from each trial's logged history (one curve per trial, one colour
    per ``hue`` value); log axes for error-like quantities. Writes PNG and PDF."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8.4, 4.4), layout="constrained")
    looks = series_looks(rows, hue)
    for row in rows:
        h = history(row["trial_id"])
        if x not in h or y not in h:
            continue
        look = looks[row[hue]]
        ax.plot(h[x], h[y], color=look.color, ls=look.dash, alpha=0.8)
    if logx if logx is not None else log_natural(x):
        ax.set_xscale("log")
    if log_natural(y):
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    _legend(fig, rows, hue, {h: Look(k.color, "", k.dash) for h, k in looks.items()})
    return _save(fig, out)


def plot_spectra(
    rows: Sequence[dict[str, Any]],
    history: Callable[[str], dict[str, Any]],
    out: str | Path,
    *,
    hue: str = "method",
    top: int = 10,
    title: str = "",
) -> list[Path]:
    """Singular values of the end-to-end matrix over training: one panel per ``hue`` value
    (its first trial), the ``top`` largest as lines, step on a log axis; dotted verticals at
    the trial's predicted switch-on times ``switch_pred_i`` when it has them. Writes PNG and
    PDF."""
    plt = pyplot()
    groups: dict[Any, dict[str, Any]] = {}
    for row in rows:
        groups.setdefault(row[hue], row)
    keys = sorted(groups, key=sort_key)
    fig, axes = plt.subplots(
        1,
        len(keys),
        figsize=(3.2 * len(keys), 3.4),
        sharey=True,
        constrained_layout=True,
        squeeze=False,
    )
    for ax, key in zip(axes[0], keys, strict=True):
        h = history(groups[key]["trial_id"])
        step, s = np.asarray(h["step"]), np.asarray(h["singular_values"])[:, :top]
        lines = [
            ax.plot(
                np.maximum(step, 1),
                s[:, i],
                color=OKABE_ITO[i % len(OKABE_ITO)],
                ls=DASHES[(i // len(OKABE_ITO)) % len(DASHES)],
            )[0]
            for i in range(s.shape[1])
        ]
        for i, line in enumerate(lines):  # a predicted switch-on time, where the trial has one
            t = groups[key].get(f"switch_pred_{i + 1}")
            if isinstance(t, int | float) and np.isfinite(t):
                ax.axvline(t, color=line.get_color(), ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_title(str(key) if hue.startswith("method") else f"{hue} = {key}", fontsize=9)
        ax.set_xlabel("step")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel(f"top {top} singular values")
    fig.suptitle(title)
    return _save(fig, out)


def plot_tradeoff(
    rows: Sequence[dict[str, Any]],
    out: str | Path,
    *,
    keys: Sequence[str],
    chosen: set[tuple],
    x: str,
    y: str,
    hue: str = "method",
    title: str = "",
    logx: bool | None = None,
    lines: dict[str, float] | None = None,
) -> list[Path]:
    """One point per setting (a value of ``keys``): the means over seeds of the metrics ``x``
    and ``y``, coloured by ``hue``; the ``chosen`` settings starred; dashed horizontal
    ``lines`` (label → y). Writes PNG and PDF."""
    plt = pyplot()
    ok = [r for r in rows if usable(r)]
    xs = {tuple(s[k] for k in keys): s[f"{x}_mean"] for s in summarize(ok, keys, x)}
    ys = {tuple(s[k] for k in keys): s[f"{y}_mean"] for s in summarize(ok, keys, y)}
    fig, ax = plt.subplots(figsize=(8.4, 4.4), layout="constrained")
    at = keys.index(hue) if hue in keys else None
    hues = sorted({k[at] if at is not None else "" for k in xs}, key=sort_key)
    looks = series_looks(ok, hue) if at is not None else {}
    for i, h in enumerate(hues):
        look = looks.get(h, Look(OKABE_ITO[i % len(OKABE_ITO)], MARKERS[i % len(MARKERS)], "-"))
        color, marker = look.color, look.marker
        pts = [k for k in xs if at is None or k[at] == h]
        ax.scatter(
            [xs[k] for k in pts],
            [ys[k] for k in pts],
            color=color,
            marker=marker,
            alpha=0.7,
            label=h,
        )
        best = [k for k in pts if k in chosen]
        ax.scatter(
            [xs[k] for k in best],
            [ys[k] for k in best],
            color=color,
            marker="*",
            s=250,
            edgecolor="k",
            zorder=3,
        )
    if logx:
        ax.set_xscale("log")
    if log_natural(y) and all(v > 0 for v in ys.values() if not math.isnan(v)):
        ax.set_yscale("log")
    for label, value in (lines or {}).items():
        ax.axhline(value, ls="--", color="gray", lw=1)
        ax.annotate(label, (ax.get_xlim()[0], value), fontsize=7, color="gray", va="bottom")
    ax.set_xlabel(f"{x} (mean over seeds)")
    ax.set_ylabel(f"{y} (mean over seeds)")
    ax.set_title(f"{title}: every setting; ★ = chosen" if title else "★ = chosen")
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(
        loc="outside right upper",
        fontsize=8,
        frameon=False,
        title=None if hue.startswith("method") else hue,
        title_fontsize=8,
    )
    return _save(fig, out)


def pyplot():
    """matplotlib.pyplot on the Agg backend (a clear error when matplotlib is missing)."""
    try:
        import matplotlib
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("figures need matplotlib: pip install 'algoreg[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out: str | Path) -> list[Path]:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out.with_suffix(".png"), out.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=150)
    pyplot().close(fig)
    return paths
