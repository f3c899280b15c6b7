"""Constrained selection: per table row, the setting that minimizes (or maximizes) a metric
subject to a validation constraint relative to a reference — a study's ``[report.select]``.

For each group of the report's ``by`` columns, every setting of the ``params`` columns (e.g.
λ and the prune level) is summarized over seeds; a setting is *feasible* when its mean
``constraint`` c̄ and the reference's mean c̄_ref satisfy c̄ − c̄_ref ≥ ``at_least`` and/or
c̄ − c̄_ref ≤ ``at_most``; the chosen setting is the feasible one with the lowest (highest)
mean ``minimize`` (``maximize``) metric. Ties go to the better constraint (higher under
``at_least``, lower under ``at_most``); a setting with fewer trials left out (diverged,
failed) always wins over one with more. Without a constraint every setting is feasible (e.g.
λ by the lowest validation MSE).

The reference trials are those whose config has the ``reference`` values and, in every
``by`` column that is not a method label, the group's own value: ``reference =
{"model.penalty" = "none"}`` with ``by = ["method_family", "model.optimizer"]`` compares
each optimizer's penalties with that optimizer's unregularized model. Choosing reads no test
metric: a metric whose name contains "test" is refused.

    [report.select]
    params = ["model.lam", "model.sensitivity"]
    minimize = "nnz"
    constraint = "val_acc"
    at_least = -0.01                          # within 1 point of the dense model
    reference = { "model.penalty" = "none", "model.sensitivity" = 0.0 }
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .table import sort_key, summarize, usable

SELECT_KEYS = ("params", "minimize", "maximize", "constraint", "at_least", "at_most", "reference")
LABELS = ("method", "method_family")  # row names, not settings: never matched to a reference


def selection_problem(spec: Any) -> str | None:
    """What is wrong with a ``[report.select]`` table, or None when it is valid."""
    if not isinstance(spec, dict):
        return f"must be a table, got {spec!r}"
    unknown = [k for k in spec if k not in SELECT_KEYS]
    if unknown:
        return f"unknown key {unknown[0]!r}; allowed: {', '.join(SELECT_KEYS)}"
    params = spec.get("params")
    if not isinstance(params, list) or not params or not all(isinstance(p, str) for p in params):
        return f"params must be a non-empty list of config columns, got {params!r}"
    goals = [k for k in ("minimize", "maximize") if k in spec]
    if len(goals) != 1:
        return "give exactly one of minimize or maximize (a metric)"
    for key in (*goals, "constraint"):
        if key not in spec:
            continue
        metric = spec[key]
        if not isinstance(metric, str) or not metric:
            return f"{key} must be a metric name, got {metric!r}"
        if "test" in metric:
            return f"{key} = {metric!r} is a test metric; choose on validation metrics only"
    bounds = [k for k in ("at_least", "at_most") if k in spec]
    for k in bounds:
        v = spec[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return f"{k} must be a finite number, got {v!r}"
    if ("constraint" in spec) != bool(bounds) or ("constraint" in spec) != ("reference" in spec):
        return "a constraint needs at_least or at_most and a reference (and they need it)"
    ref = spec.get("reference")
    if ref is not None and (not isinstance(ref, dict) or not ref):
        return f"reference must be a table of column = value, got {ref!r}"
    return None


def objective(spec: dict[str, Any]) -> str:
    """The metric the selection minimizes or maximizes."""
    return spec.get("minimize") or spec["maximize"]


def _mean(rows: Sequence[dict[str, Any]], metric: str) -> float:
    (stat,) = summarize(rows, [], metric)
    return stat[f"{metric}_mean"]


def reference_value(
    rows: Sequence[dict[str, Any]], group: dict[str, Any], spec: dict[str, Any]
) -> float:
    """Mean ``constraint`` over the reference trials of ``group`` (NaN: none usable)."""
    want = {k: v for k, v in group.items() if k not in LABELS and k not in spec["reference"]}
    want.update(spec["reference"])
    chosen = [r for r in rows if usable(r) and all(r.get(k) == v for k, v in want.items())]
    return _mean(chosen, spec["constraint"]) if chosen else math.nan


def _feasible(value: float, ref: float, spec: dict[str, Any]) -> bool:
    if "constraint" not in spec:
        return True
    if math.isnan(value) or math.isnan(ref):
        return False
    low, high = spec.get("at_least", -math.inf), spec.get("at_most", math.inf)
    return low <= value - ref <= high


def select_constrained(
    rows: Sequence[dict[str, Any]],
    by: Sequence[str],
    spec: dict[str, Any],
    report: Sequence[str],
) -> list[dict[str, Any]]:
    """One row per group of ``by``: the chosen values of ``spec["params"]``, the objective's
    and constraint's means (and the reference's, ``<constraint>_reference``), and the mean ±
    sd of each ``report`` metric there. A group with no feasible setting keeps its row, with
    NaN metrics and ``left_out`` saying so."""
    params, goal = list(spec["params"]), objective(spec)
    sign = 1.0 if "minimize" in spec else -1.0
    constraint = spec.get("constraint")
    tie = -1.0 if "at_least" in spec else 1.0
    settings = summarize(rows, [*by, *params], goal)
    out = []
    for key in sorted(
        {tuple(s[b] for b in by) for s in settings}, key=lambda k: [sort_key(v) for v in k]
    ):
        group = dict(zip(by, key, strict=True))
        ref = reference_value(rows, group, spec) if constraint else math.nan
        best, best_rank = None, None
        for s in settings:
            if tuple(s[b] for b in by) != key or math.isnan(s[f"{goal}_mean"]):
                continue
            members = [r for r in rows if all(r.get(c) == s[c] for c in (*by, *params))]
            value = _mean([r for r in members if usable(r)], constraint) if constraint else 0.0
            if not _feasible(value, ref, spec):
                continue
            rank = (s["n_missing"], sign * s[f"{goal}_mean"], tie * value)
            if best_rank is None or rank < best_rank:
                best, best_rank = (s, members, value), rank
        row: dict[str, Any] = {**group}
        if constraint:
            row[f"{constraint}_reference"] = ref
        if best is None:
            row.update({p: None for p in params})
            for metric in dict.fromkeys([goal, *report]):
                row.update({f"{metric}_mean": math.nan, f"{metric}_sd": math.nan})
            row.update({"n": 0, "n_missing": 0, "left_out": "no setting meets the constraint"})
            out.append(row)
            continue
        s, members, _ = best
        row.update({p: s[p] for p in params})
        for metric in dict.fromkeys([goal, *([constraint] if constraint else []), *report]):
            (stat,) = summarize(members, [], metric)
            row.update({k: v for k, v in stat.items() if k.startswith(metric)})
        row.update({k: s[k] for k in ("n", "n_missing", "left_out")})
        out.append(row)
    return out


__all__ = [
    "SELECT_KEYS",
    "objective",
    "reference_value",
    "select_constrained",
    "selection_problem",
]
