"""Paper-style figures from a study store (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .table import summarize

LOG_NATURAL = ("test_error", "mse", "rel_error", "train_loss", "objective", "wall_s")


def plot_summary(
    rows: Sequence[dict[str, Any]],
    out: str | Path,
    *,
    x: str = "problem.n_obs",
    y: str = "test_error",
    hue: str = "method",
    title: str = "",
    reference: dict[str, float] | None = None,
) -> list[Path]:
    """Mean ± sd of ``y`` against ``x`` with one line per ``hue`` value; writes PNG and PDF.

    Log scale on ``y`` for error-like metrics. Returns the written paths.
    """
    try:
        import matplotlib
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("figures need matplotlib: pip install 'algoreg[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r.get("status") != "failed"]
    summary = summarize(ok, [hue, x], y)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    hues = sorted({s[hue] for s in summary}, key=str)
    for h in hues:
        pts = sorted((s for s in summary if s[hue] == h), key=lambda s: s[x])
        xs = [p[x] for p in pts]
        mean = [p[f"{y}_mean"] for p in pts]
        sd = [p[f"{y}_sd"] for p in pts]
        (line,) = ax.plot(xs, mean, marker="o", label=str(h))
        lo = [
            max(m - s, m * 1e-3) if y in LOG_NATURAL else m - s
            for m, s in zip(mean, sd, strict=True)
        ]
        hi = [m + s for m, s in zip(mean, sd, strict=True)]
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    for label, value in (reference or {}).items():
        ax.axhline(value, ls="--", color="gray", lw=1)
        ax.annotate(label, (ax.get_xlim()[0], value), fontsize=8, color="gray", va="bottom")
    positive = all((s[f"{y}_mean"] > 0) for s in summary if not math.isnan(s[f"{y}_mean"]))
    if y in LOG_NATURAL and positive:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (mean ± sd over seeds)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out.with_suffix(".png"), out.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)
    return paths
