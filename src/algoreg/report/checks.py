"""Claim checks: a study's ``[[report.checks]]`` turn its claim into comparisons on its table,
so the generated page says in words whether our numbers agree with the paper.

A check names table rows by their method label (``rows``; labels not in the table are
skipped, so one check can name the quick and the full form of a method) and bounds each row's
mean ``metric`` (default: the report's ``y``) at each value of the report's x in ``at``
(default: every value measured):

- with a reference row ``than``: ``at_most = r`` holds where mean(row) ≤ r · mean(than), and
  ``at_least = r`` where mean(row) ≥ r · mean(than);
- with ``than_at = x₀`` the reference is read at x₀ instead of at the same x (of ``than``, or
  else of the row itself): a trend, e.g. "at init 1e-5 at most a tenth of its value at 1e-2";
- without either, the bounds are absolute: mean(row) ≤ r, mean(row) ≥ r;
- ``x = "column"`` reads ``at`` and ``than_at`` in another column of the table than the
  report's x (e.g. the learning rate, in a study that plots histories against the step);
- ``where = {column = value, …}`` keeps only the table rows with those values (columns of the
  report's ``by``), e.g. one learning rate of a method that ran at several;
- ``compare = "difference"`` bounds mean(row) − mean(reference) instead of the ratio, e.g.
  how far a switch-on time moves per 10× smaller init (the bounds may then be ≤ 0).

Row labels are matched as the table prints them (a numeric group such as ``problem.n_obs``
is named ``"600"``).

The verdict is *agrees* when every comparison holds, *disagrees* when none does, *partly*
otherwise, and *not measured* when no row and reference were found at any ``at`` (for a
study still running, or a quick run at other sizes; a label the table lacks is named, with
the labels it has). Comparisons that could not be made beside measured ones (a row not yet
run at some ``at``) are listed as "not measured: …", so a verdict never hides what it lacks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .table import sort_key

CHECK_KEYS = (
    "says",
    "rows",
    "than",
    "than_at",
    "at_most",
    "at_least",
    "at",
    "metric",
    "compare",
    "x",
    "where",
)
COMPARES = ("ratio", "difference")


def ratio_text(ratio: float) -> str:
    """A check's ratio m/ref: three decimals between 0.1 and 10, where the 1% margins of checks
    live (×1.004, not the ×1 of three significant digits), else three significant digits."""
    return f"{ratio:.3f}".rstrip("0").rstrip(".") if 0.1 <= abs(ratio) < 10 else f"{ratio:.3g}"


def check_problem(check: Any) -> str | None:
    """What is wrong with one ``[[report.checks]]`` entry, or None when it is valid."""
    if not isinstance(check, dict):
        return f"must be a table, got {check!r}"
    unknown = [k for k in check if k not in CHECK_KEYS]
    if unknown:
        return f"unknown key {unknown[0]!r}; allowed: {', '.join(CHECK_KEYS)}"
    if not isinstance(check.get("says"), str) or not check["says"].strip():
        return "says must be a non-empty string: the claim this check tests, in words"
    rows = check.get("rows")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, str) for r in rows):
        return f"rows must be a non-empty list of method labels, got {rows!r}"
    if "than" in check and not isinstance(check["than"], str):
        return f"than must be a method label (a string), got {check['than']!r}"
    if isinstance(check.get("than_at"), list | dict):
        return f"than_at must be one x value, got {check['than_at']!r}"
    bounds = [k for k in ("at_most", "at_least") if k in check]
    if not bounds:
        return "give at_most or at_least (or both)"
    for k in bounds:
        v = check[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return f"{k} must be a finite number, got {v!r}"
        if _relative(check) and check.get("compare", "ratio") == "ratio" and v <= 0:
            return f"{k} is a factor of the reference row's mean: it must be > 0, got {v!r}"
    if check.get("compare", "ratio") not in COMPARES:
        return f"compare must be one of {', '.join(COMPARES)}, got {check['compare']!r}"
    if check.get("compare", "ratio") == "difference" and not _relative(check):
        return "compare = 'difference' needs a reference: than or than_at"
    at = check.get("at")
    if at is not None and (not isinstance(at, list) or not at):
        return f"at must be a non-empty list of x values, got {at!r}"
    if "where" in check and not isinstance(check["where"], dict):
        return f"where must be a table of column = value, got {check['where']!r}"
    if "x" in check and not isinstance(check["x"], str):
        return f"x must be a column name (a string), got {check['x']!r}"
    if "metric" in check and not isinstance(check["metric"], str):
        return f"metric must be a column name (a string), got {check['metric']!r}"
    return None


def _relative(check: dict[str, Any]) -> bool:
    return "than" in check or "than_at" in check


VERDICTS = ("agrees", "partly", "disagrees", "not measured")


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict and its comparisons, each already in words."""

    says: str
    verdict: str  # one of VERDICTS
    comparisons: tuple[str, ...]

    def line(self) -> str:
        details = "; ".join(self.comparisons)
        return f"{self.verdict}: {self.says}" + (f" ({details})" if details else "")


def evaluate(
    check: dict[str, Any], table: Sequence[dict[str, Any]], group: str, spec: dict[str, Any]
) -> CheckResult:
    """Evaluate one check on a report table whose rows are labelled by ``group``."""
    x, metric = check.get("x", spec["x"]), check.get("metric", spec["y"])
    column = f"{metric}_mean"
    has_x = bool(table) and x in table[0]
    xs = (check.get("at") or sorted({r[x] for r in table}, key=sort_key)) if has_x else [None]

    only = check.get("where", {})
    named = [*only, *([check["x"]] if "x" in check else [])]  # columns the check reads
    absent = [c for c in named if table and c not in table[0]]
    if absent:
        text = f"no column {absent[0]!r} in the table (its columns: {', '.join(sorted(table[0]))})"
        return CheckResult(check["says"], "not measured", (text,))

    def mean(label: str, value: Any) -> float:
        for r in table:
            if any(r.get(k) != v for k, v in only.items()):
                continue
            if str(r.get(group)) == label and (not has_x or r[x] == value):
                v = r.get(column, math.nan)
                return float(v) if isinstance(v, int | float) else math.nan
        return math.nan

    def where(value: Any) -> str:
        if not has_x:
            return ""
        return f" at {value} observations" if x == "problem.n_obs" else f" at {x} = {value}"

    relative = _relative(check)
    diff = check.get("compare", "ratio") == "difference"
    held, words, missing = [], [], []
    for value in xs:
        for label in check["rows"]:
            ref_label, ref_x = check.get("than", label), check.get("than_at", value)
            ref = mean(ref_label, ref_x) if relative else 1.0
            m = mean(label, value)
            if math.isnan(m) or math.isnan(ref) or (relative and not diff and ref == 0):
                missing.append(f"{label}{where(value)}")
                continue
            if diff:  # the bounds apply to m − ref
                ok = ("at_most" not in check or m - ref <= check["at_most"]) and (
                    "at_least" not in check or m - ref >= check["at_least"]
                )
            else:  # to m/ref (m itself when absolute: ref = 1)
                ok = ("at_most" not in check or m <= check["at_most"] * ref) and (
                    "at_least" not in check or m >= check["at_least"] * ref
                )
            held.append(ok)
            text = f"{label} {m:.3g}"
            if relative:
                ref_where = where(ref_x) if ref_x != value else ""
                change = f"{m - ref:+.3g}" if diff else f"×{ratio_text(m / ref)}"
                text += f" vs {ref_label}{ref_where} {ref:.3g}, {change}"
            words.append(f"{text}{where(value)} {'✓' if ok else '✗'}")
    if held and missing:  # e.g. a study still running: say what the verdict leaves out
        words.append(f"not measured: {', '.join(missing)}")
    if not held and table:
        labels = sorted({str(r.get(group)) for r in table}, key=sort_key)
        unknown = [r for r in (*check["rows"], check.get("than")) if r and r not in labels]
        if unknown:
            words.append(f"no row labelled {unknown[0]!r}; the table's rows: {', '.join(labels)}")
    if not held:
        verdict = "not measured"
    else:
        verdict = "agrees" if all(held) else "disagrees" if not any(held) else "partly"
    return CheckResult(check["says"], verdict, tuple(words))


__all__ = ["CHECK_KEYS", "COMPARES", "VERDICTS", "CheckResult", "check_problem", "evaluate"]
