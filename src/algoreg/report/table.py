"""Result tables: one row per trial (flattened config + final metrics), and summaries over
seeds (mean, standard deviation and count per group)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dotted import dotted_items


def flatten(config: dict[str, Any]) -> dict[str, Any]:
    """{"model": {"depth": 3}} → {"model.depth": 3}."""
    return dict(dotted_items(config))


def method_label(config: dict[str, Any], *, with_lam: bool = True) -> str:
    """A short name for the method of a trial: model, depth, optimizer, penalty (and λ)."""
    from ..models import MODELS, get

    kind = config["model"]["kind"]
    if kind not in MODELS:  # a trial kind: a baseline, a network protocol, ...
        from ..studies.kinds import label

        return label(config, with_lam)
    name = get(**config["model"]).label(config["optimizer"]["kind"])
    pen = config.get("penalty", {"kind": "none"})
    if pen["kind"] != "none":
        name += f" + {pen['kind']}" + (f" λ={pen['lam']:g}" if with_lam else "")
        # a gradient other than the exact SVD's is a different method: say which
        method = pen.get("method", "svd")
        if method == "subspace":
            method += f" r{pen.get('rank', 16)}"
        how = [] if method == "svd" else [method]
        if pen.get("refresh_every", 1) > 1:
            how.append(f"SVD every {pen['refresh_every']}")
        name += f" ({', '.join(how)})" if how else ""
    return name


def result_rows(trials: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per stored trial (see :meth:`Store.trials`)."""
    rows = []
    for t in trials:
        row = {
            "trial_id": t["trial_id"],
            "status": t["status"],
            "method": method_label(t["config"]),
            "method_family": method_label(t["config"], with_lam=False),
        }
        row.update(flatten(t["config"]))
        row.update({k: (math.nan if v is None else v) for k, v in t["metrics"].items()})
        row.update({"steps": t["steps"], "wall_s": t["wall_s"], "error": t["error"]})
        rows.append(row)
    return rows


# trials whose final metrics are not results: a diverged trial's last finite iterate is often
# its initialization (test error ≈ 1), a failed one has none. Summaries, figures, claim checks
# and the validation choice of λ / learning rate leave them out and say how many.
LEFT_OUT = ("diverged", "failed")


def usable(row: dict[str, Any]) -> bool:
    """Whether a trial's metrics may enter a summary (its status is not in ``LEFT_OUT``)."""
    return row.get("status") not in LEFT_OUT


def summarize(rows: Sequence[dict[str, Any]], by: Sequence[str], y: str) -> list[dict[str, Any]]:
    """Mean, sd and count ``n`` of ``y`` over rows grouped by the ``by`` columns. Diverged and
    failed trials (``LEFT_OUT``) and NaN or absent values are left out: ``n_missing`` counts
    them and ``left_out`` says why, e.g. ``"2 diverged, 1 no value"``."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(b) for b in by), []).append(row)
    out = []
    for key, members in sorted(groups.items(), key=lambda kv: [sort_key(k) for k in kv[0]]):
        kept = [r for r in members if usable(r)]
        vals = np.asarray([_number(r.get(y)) for r in kept], dtype=float)
        finite = vals[np.isfinite(vals)]
        why = {s: sum(r.get("status") == s for r in members) for s in LEFT_OUT}
        why["no value"] = len(kept) - finite.size
        out.append(
            {
                **dict(zip(by, key, strict=True)),
                f"{y}_mean": float(finite.mean()) if finite.size else math.nan,
                f"{y}_sd": float(finite.std()) if finite.size else math.nan,
                "n": int(finite.size),
                "n_missing": len(members) - int(finite.size),
                "left_out": ", ".join(f"{n} {s}" for s, n in why.items() if n),
            }
        )
    return out


def _number(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


# hyper-parameters chosen on validation data: λ of a penalty, the learning rate, and the
# regularization weight of a convex baseline
TUNED = ("penalty.lam", "optimizer.learning_rate", "model.lam")


_NUMBER = re.compile(r"(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)")


def sort_key(value: Any) -> tuple:
    """Sort key: numbers numerically (before anything else), the rest by their text with the
    numbers in it compared as numbers ("k=20" before "k=160", "α=1e-08" before "α=1e-06")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, ())
    parts = _NUMBER.split(str(value))
    return (1, 0, tuple((0, float(p), "") if i % 2 else (1, 0, p) for i, p in enumerate(parts)))


def select_best(
    rows: Sequence[dict[str, Any]],
    by: Sequence[str],
    *,
    params: Sequence[str] = TUNED,
    criterion: str = "val_error",
    report: Sequence[str] = ("test_error",),
) -> list[dict[str, Any]]:
    """For each group of ``by`` (e.g. method family × n_obs), the values of the tuned
    ``params`` (e.g. λ and the learning rate) with the lowest mean ``criterion`` over seeds — a
    validation metric, never the test one — and the mean ± sd of the ``report`` metrics there.
    A setting with fewer trials left out (diverged, failed: a learning rate that diverges on
    some seeds is not a usable choice) wins over one with more, whatever its mean."""
    out: list[dict[str, Any]] = []

    def rank(g: dict[str, Any]) -> tuple[int, float]:
        return g["n_missing"], g[f"{criterion}_mean"]

    for group in summarize(rows, [*by, *params], criterion):
        if math.isnan(group[f"{criterion}_mean"]):
            continue
        key = tuple(group[b] for b in by)
        best = next((o for o in out if tuple(o[b] for b in by) == key), None)
        if best is None or rank(group) < rank(best):
            if best is not None:
                out.remove(best)
            out.append(group)
    for group in out:
        chosen = [r for r in rows if all(r.get(b) == group[b] for b in (*by, *params))]
        for metric in report:
            (stat,) = summarize(chosen, [], metric)
            group.update({k: v for k, v in stat.items() if k.startswith(metric)})
    return sorted(out, key=lambda g: [sort_key(g[b]) for b in by])


def trial_time(rows: Sequence[dict[str, Any]]) -> str:
    """The summed ``wall_s`` of trials (rows or stored trials), as "95.0 s", "18.8 min" or
    "9.9 h" (NaN and missing times count as 0)."""
    total = sum(w for r in rows if isinstance(w := r.get("wall_s"), int | float) and w == w)
    if total < 120:
        return f"{total:.1f} s"
    return f"{total / 60:.1f} min" if total < 120 * 60 else f"{total / 3600:.1f} h"


def format_rows(
    rows: Sequence[dict[str, Any]], fmt: str = "table", columns: Sequence[str] | None = None
) -> str:
    """Render rows as an aligned text table, CSV or JSON."""
    if not rows:
        return "" if fmt != "json" else "[]"
    columns = list(columns or _columns(rows))
    if fmt == "json":
        records = [{c: _json_value(r.get(c)) for c in columns} for r in rows]
        return json.dumps(records, indent=1, default=str, allow_nan=False)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _json_value(value: Any) -> Any:
    """NaN and ±inf as JSON's null (bare NaN is not JSON: strict parsers reject it)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(r))
    return list(seen)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else next(iter(str(value).splitlines()), "")
