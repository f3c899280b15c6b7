"""Paper-style figures from a study store (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

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
) -> list[Path]:
    """Mean ± sd of ``y`` against ``x`` with one line per ``hue`` value; writes PNG and PDF.

    Log scale on ``y`` for error-like metrics. Returns the written paths.
    """
    plt = pyplot()
    ok = [r for r in rows if usable(r)]
    summary = summarize(ok, [hue, x], y)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    hues = sorted({s[hue] for s in summary}, key=sort_key)
    for h in hues:
        pts = sorted((s for s in summary if s[hue] == h), key=lambda s: s[x])
        xs = [p[x] for p in pts]
        mean = [p[f"{y}_mean"] for p in pts]
        sd = [p[f"{y}_sd"] for p in pts]
        (line,) = ax.plot(xs, mean, marker="o", label=str(h))
        lo = [
            max(m - s, m * 1e-3) if log_natural(y) else m - s for m, s in zip(mean, sd, strict=True)
        ]
        hi = [m + s for m, s in zip(mean, sd, strict=True)]
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    for label, value in (reference or {}).items():
        ax.axhline(value, ls="--", color="gray", lw=1)
        ax.annotate(label, (ax.get_xlim()[0], value), fontsize=8, color="gray", va="bottom")
    positive = all((s[f"{y}_mean"] > 0) for s in summary if not math.isnan(s[f"{y}_mean"]))
    if log_natural(y) and positive:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean ± sd over seeds)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, title=None if hue.startswith("method") else hue, title_fontsize=8)
    return _save(fig, out)


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
    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    colors = {h: f"C{i}" for i, h in enumerate(sorted({r[hue] for r in rows}, key=sort_key))}
    labelled: set = set()
    for row in rows:
        h = history(row["trial_id"])
        if x not in h or y not in h:
            continue
        label = None if row[hue] in labelled else str(row[hue])
        labelled.add(row[hue])
        ax.plot(h[x], h[y], color=colors[row[hue]], label=label, alpha=0.8)
    if logx if logx is not None else log_natural(x):
        ax.set_xscale("log")
    if log_natural(y):
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
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
        lines = ax.plot(np.maximum(step, 1), s)
        for i, line in enumerate(lines):  # a predicted switch-on time, where the trial has one
            t = groups[key].get(f"switch_pred_{i + 1}")
            if isinstance(t, int | float) and np.isfinite(t):
                ax.axvline(t, color=line.get_color(), ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_title(str(key), fontsize=9)
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
    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    at = keys.index(hue) if hue in keys else None
    hues = sorted({k[at] if at is not None else "" for k in xs}, key=sort_key)
    for i, h in enumerate(hues):
        color = f"C{i % 10}"
        pts = [k for k in xs if at is None or k[at] == h]
        ax.scatter([xs[k] for k in pts], [ys[k] for k in pts], color=color, alpha=0.6, label=h)
        best = [k for k in pts if k in chosen]
        ax.scatter([xs[k] for k in best], [ys[k] for k in best], color=color, marker="*",
                   s=250, edgecolor="k", zorder=3)  # fmt: skip
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
    ax.legend(fontsize=8, title=None if hue.startswith("method") else hue, title_fontsize=8)
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
