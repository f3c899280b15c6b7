"""The dynamic path view of a clustering study in the HTML report (Weylandt, Nagorski & Allen's
visualization: the fusion path on the first two principal components, scrubbed along γ, linked
to the dendrogram).

A trial's store keeps its metrics, not its path (every kept iterate of U would make an archive
hundreds of times larger), so the section recomputes one path per data set from the trial's own
settings — a fraction of a second on the presets' data. Per data set it shows the trial of the
study's plainest method (CARP before CARP-VIZ before the exact path; CBASS before its exact
mode) at the t closest to the paper's default. A data set whose file cannot be read here (an
archive made on another machine) is named with the reason, not left out silently.
"""

from __future__ import annotations

import html
import re
from typing import Any

from ..errors import ConfigError

PREFERENCE = ("carp", "cbass", "carp-viz", "exact", "cbass-exact")
DEFAULT_T = {"cbass": 1.01, "cbass-exact": 1.01}  # the paper's defaults; 1.05 for clustering


def _settings(row: dict[str, Any], section: str) -> dict[str, Any]:
    prefix = f"{section}."
    return {k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)}


def chosen_trials(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Data set → the trial whose path the section draws (see the module)."""
    out: dict[str, dict[str, Any]] = {}

    def rank(row: dict[str, Any]) -> tuple:
        method = row.get("model.method", "carp")
        order = PREFERENCE.index(method) if method in PREFERENCE else len(PREFERENCE)
        t = float(row.get("model.t", 1.05))
        return (order, abs(t - DEFAULT_T.get(method, 1.05)), t)

    for row in rows:
        if row.get("status") == "failed":
            continue
        data = str(row.get("problem.data"))
        if data not in out or rank(row) < rank(out[data]):
            out[data] = row
    return dict(sorted(out.items()))


def path_fragments(row: dict[str, Any], prefix: str) -> list[str]:
    """The path view(s) of one clustering trial, recomputed from its settings."""
    from .datasets import load_dataset
    from .pathview import bicluster_views, path_view_fragment
    from .study import BICLUSTER, ClusteringSettings, fit_trial

    model = {k: v for k, v in _settings(row, "model").items() if k != "kind"}
    s = ClusteringSettings(**model)
    problem = _settings(row, "problem")
    X, _ = load_dataset(problem)
    path = fit_trial(X, s, problem["data"]).path
    title = f"{problem['data']}: {s.method}, t = {s.t:g}"
    if s.method in BICLUSTER:
        return bicluster_views(path, title=title, prefix=prefix)
    return [path_view_fragment(path, title=title, element_id=f"{prefix}path")]


def render(report: Any) -> str:
    """The HTML of a clustering study's path views (registered for ``convex_clustering``)."""
    out = [
        "<h3>Fusion paths</h3>",
        '<p class="hint">Each data set\'s path on its first two principal components: drag the '
        "slider (or press play) to move along γ; points take their cluster's colour at the "
        "current γ and the dashed line marks the level on the dendrogram. Recomputed from the "
        "trial's settings.</p>",
    ]
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", report.name)
    for data, row in chosen_trials(report.rows).items():
        prefix = f"{stem}-{re.sub(r'[^A-Za-z0-9_-]', '-', data)}-"
        try:
            out += path_fragments(row, prefix)
        except (ConfigError, OSError, ImportError) as exc:
            out.append(
                f'<p class="note">No path view of {html.escape(data)}: {html.escape(str(exc))}</p>'
            )
    return "\n".join(out)


__all__ = ["chosen_trials", "path_fragments", "render"]
