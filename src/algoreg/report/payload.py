"""What the HTML report's scripts read about a study: every trial (its table row and all its
final metrics) and each trial's logged history, downsampled for display.

Histories are thinned to at most ``points`` log points per trial (a budget shared by the
study's trials, so a study of 500 trials with logged spectra stays a few MB): the first and
last points, evenly spaced ones and log-spaced ones (the early steps, where a log-step axis
shows most). Every trial keeps its history; nothing is dropped but intermediate points and
the smaller singular values beyond ``top``. Numbers are rounded to 4 significant digits for
display; the final metrics are kept exact (the trial view shows them, tests compare them with
the store).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .analysis import StudyReport, chosen_rows
from .table import LEFT_OUT

# logged scalars the trial view plots, in panels: losses and errors, the effective rank,
# balancedness (whichever of the two forms a study logs)
LOSSES = ("train_loss", "val_error", "test_error", "truth_error", "train_error", "mse")
SCALARS = (*LOSSES, "effective_rank", "balancedness", "balance_ratio")
TOP = 10  # singular values kept per log point
BUDGET = 400_000  # numbers of history per study, shared by its trials
MAX_POINTS = 200
MIN_POINTS = 16
CONFIG_PREFIXES = ("problem.", "model.", "optimizer.", "penalty.", "train.", "data.")
HIDDEN = ("problem.data_sha256", "problem.path", "problem.labels")


def downsample(n: int, points: int) -> np.ndarray:
    """Indices of at most about ``points`` of ``n`` log points: first, last, evenly spaced and
    log spaced ones, sorted and unique."""
    if n <= points:
        return np.arange(n)
    half = max(points // 2, 2)
    even = np.linspace(0, n - 1, half)
    geometric = np.geomspace(1, n - 1, half)
    return np.unique(np.concatenate([[0, n - 1], even, geometric]).round().astype(int))


def rounded(values: Any) -> Any:
    """Numbers to 4 significant digits (NaN and ±inf as None: JSON has neither), recursively
    through lists."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, list | tuple):
        return [rounded(v) for v in values]
    if isinstance(values, float):
        return float(f"{values:.4g}") if math.isfinite(values) else None
    return values


def exact(value: Any) -> Any:
    """A JSON-safe value: NaN and ±inf as None, numpy scalars as Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def config_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The config columns whose values differ between trials (the rest is the same for all
    and said once, above the table), in config order, seed last."""
    seen: dict[str, None] = {}
    for r in rows:
        seen.update(dict.fromkeys(k for k in r if k.startswith(CONFIG_PREFIXES)))
    varying = [
        k
        for k in seen
        if k not in HIDDEN and len({repr(r.get(k)) for r in rows}) > 1 and k != "model.kind"
    ]
    return [*varying, *(["seed"] if len({r.get("seed") for r in rows}) > 1 else [])]


def fixed_settings(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The config values every trial shares."""
    if not rows:
        return {}
    keys = [k for k in rows[0] if k.startswith(CONFIG_PREFIXES) and k not in HIDDEN]
    return {k: rows[0][k] for k in keys if len({repr(r.get(k)) for r in rows}) == 1}


def metric_columns(report: StudyReport) -> list[str]:
    """The metrics the trials table shows: the report's y and metrics, what its checks and its
    validation choice read, then test error, train loss and effective rank, steps and time."""
    spec, rows = report.spec, report.rows
    checked = [c.get("metric", spec["y"]) for c in spec["checks"]]
    select = spec["select"] or {}
    chosen = [select.get(k) for k in ("minimize", "maximize", "constraint")]
    wanted = [spec["y"], *(spec["metrics"] or []), *checked, *chosen]
    if any(r.get("problem.validation") for r in rows):
        wanted.append(spec["criterion"])
    wanted += ["test_error", "train_loss", "effective_rank", "steps", "wall_s"]
    if spec["plot"] != "history":
        wanted = [w for w in wanted if w != spec["x"]] + [spec["x"]]
    known = {k for r in rows for k in r}
    return [w for w in dict.fromkeys(wanted) if w and w in known and w not in ("seed",)]


def metric_names(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every final metric a trial has (the columns that are neither config nor bookkeeping)."""
    skip = {"trial_id", "status", "method", "method_family", "error", "seed"}
    out: dict[str, None] = {}
    for r in rows:
        out.update(
            dict.fromkeys(k for k in r if k not in skip and not k.startswith(CONFIG_PREFIXES))
        )
    return list(out)


def trial_payload(report: StudyReport) -> dict[str, Any]:
    """The trials table (columns and one row per trial) and each trial's details."""
    rows = report.rows
    config = config_columns(rows)
    metrics = [m for m in metric_columns(report) if m not in config]
    spec = report.spec
    first = [c for c in (spec["x"], spec["hue"], spec.get("facet")) if c in config]
    rest = [c for c in config if c not in first]
    columns = ["status", "method", *dict.fromkeys(first), *metrics, *rest]
    chosen = chosen_ids(report)
    table = [[exact(r.get(c)) for c in columns] for r in rows]
    names = metric_names(rows)
    details = {
        r["trial_id"]: {
            "metrics": {m: exact(r.get(m)) for m in names if _is_number(r.get(m))},
            "config": {c: exact(r.get(c)) for c in config},
            "error": r.get("error"),
        }
        for r in rows
    }
    return {
        "columns": columns,
        "kinds": ["config" if c in config else "metric" for c in columns],
        "ids": [r["trial_id"] for r in rows],
        "rows": table,
        "chosen": sorted(chosen),
        "details": details,
        "fixed": {k: exact(v) for k, v in fixed_settings(rows).items()},
        "left_out": list(LEFT_OUT),
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.generic) and not isinstance(value, bool)


def chosen_ids(report: StudyReport) -> set[str]:
    """Trials at the settings the table chose (validation choice or ``[report.select]``)."""
    spec = report.spec
    if report.tuned:
        return {r["trial_id"] for r in chosen_rows(report)}
    if spec["select"]:
        keys = list(dict.fromkeys([*(spec["by"] or [spec["hue"]]), *spec["select"]["params"]]))
    else:
        return set()
    picked = {tuple(t.get(k) for k in keys) for t in report.table}
    return {r["trial_id"] for r in report.rows if tuple(r.get(k) for k in keys) in picked}


def history_payload(report: StudyReport) -> dict[str, dict[str, Any]]:
    """Each trial's history for display: ``step``, the logged :data:`SCALARS`, the top
    :data:`TOP` singular values (``sv``, one list per log point) and, where the trial logs
    ``sv_flow_rate``, the gradient-flow prediction of them (``sv_flow``)."""
    out: dict[str, dict[str, Any]] = {}
    histories = {r["trial_id"]: report.history(r["trial_id"]) for r in report.rows}
    series = max((_series(h) for h in histories.values()), default=0)
    if not series:
        return out
    points = int(np.clip(BUDGET // (len(histories) * series), MIN_POINTS, MAX_POINTS))
    for row in report.rows:
        h = histories[row["trial_id"]]
        if "step" not in h or len(h["step"]) == 0:
            continue
        keep = downsample(len(h["step"]), points)
        entry: dict[str, Any] = {"step": rounded(h["step"][keep]), "n": len(h["step"])}
        for name in SCALARS:
            if name in h and np.asarray(h[name]).ndim == 1:
                entry[name] = rounded(np.asarray(h[name], dtype=float)[keep])
        if "singular_values" in h and np.asarray(h["singular_values"]).ndim == 2:
            s = np.asarray(h["singular_values"], dtype=float)
            entry["sv"] = rounded(s[keep, :TOP])
            entry["sv_total"] = int(s.shape[1])
            lr = row.get("optimizer.learning_rate")
            if "sv_flow_rate" in h and isinstance(lr, int | float):
                entry["sv_flow"] = rounded(flow_prediction(h, float(lr))[keep])
        out[row["trial_id"]] = entry
    return out


def _series(h: dict[str, Any]) -> int:
    n = sum(1 for k in SCALARS if k in h) + 1
    if "singular_values" in h:
        n += min(TOP, np.asarray(h["singular_values"]).shape[-1])
    if "sv_flow_rate" in h:
        n += TOP
    return n if "step" in h else 0


def flow_prediction(history: dict[str, Any], learning_rate: float, top: int = TOP) -> np.ndarray:
    """The gradient-flow prediction of the top singular values, one log interval ahead:
    σ̂_r(t_{k+1}) = σ_r(t_k) + (t_{k+1} − t_k)·½(ṡ_r(t_k) + ṡ_r(t_{k+1})), with ṡ_r the logged
    ``sv_flow_rate`` (Arora et al. 2019, Thm 3) and t = learning rate × step; the first point
    is the measured one. Where it agrees with the measured curve, training follows the flow
    (what :func:`algoreg.metrics.flow_agreement` summarizes)."""
    s = np.asarray(history["singular_values"], dtype=float)[:, :top]
    rate = np.asarray(history["sv_flow_rate"], dtype=float)[:, :top]
    dt = learning_rate * np.diff(np.asarray(history["step"], dtype=float))[:, None]
    predicted = s.copy()
    predicted[1:] = s[:-1] + dt * 0.5 * (rate[1:] + rate[:-1])
    return predicted


__all__ = [
    "chosen_ids",
    "config_columns",
    "downsample",
    "fixed_settings",
    "flow_prediction",
    "history_payload",
    "metric_columns",
    "trial_payload",
]
