"""The dynamic path view (Weylandt, Nagorski & Allen 2020's visualization): a self-contained
HTML fragment (inline SVG and a small inline script, nothing fetched) that scrubs a clustering
path along γ.

Left: every observation's trajectory U_i(γ) projected on the first two principal axes of the
data (the centered X's two leading right singular vectors, as :func:`.figures.path_figure`),
with the points at the current γ coloured by their cluster in the hierarchy cut at γ (a merged
cluster keeps the colour of its larger part). Right: the dendrogram (heights log10 γ, as
:func:`.figures.dendrogram_figure`) with a horizontal line at the current γ and its leaves in
the current colours; the caption gives γ and the number of clusters. A slider and a play
button move along the kept iterates of the path.

Frames: one per kept iterate of the path (``path.gammas``); a path with more than
``max_frames`` kept iterates is shown at ``max_frames`` of them, evenly spaced and always with
the first and the last (the frame's kept index is in the data, ``steps``). The data is
embedded as JSON (``<script type="application/json" id="ID-data">``): coordinates as integers
0…10000 across the bounding box ``box`` = [x min, y min, x span, y span] (a resolution of 10⁻⁴
of the box; :func:`decode` inverts it).

>>> import numpy as np
>>> from algoreg.clustering import carp, gaussian_knn_weights, preprocess
>>> X = preprocess(np.array([[0.0, 0.0], [0.2, 0.1], [4.0, 4.0], [4.1, 3.9], [8.0, 0.0]]))
>>> path = carp(X, gaussian_knn_weights(X), t=1.05)
>>> path_view_html(path).startswith("<!DOCTYPE html>")          # a full page
True
>>> 'id="p1"' in path_view_fragment(path, element_id="p1")   # to embed in another page
True
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, check_int
from .data import principal_axes

MAX_FRAMES = 300
GRID = 10_000  # coordinates are integers 0…GRID across the bounding box
PALETTE = (
    "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf "
    "#aec7e8 #ffbb78 #98df8a #ff9896 #c5b0d5 #c49c94 #f7b6d2 #c7c7c7 #dbdb8d #9edae5"
).split()


def frame_steps(n_kept: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """The kept iterates shown: all of them, or ``max_frames`` evenly spaced (first and last
    included)."""
    max_frames = check_int("max_frames", max_frames, low=2)
    if n_kept <= max_frames:
        return np.arange(n_kept)
    return np.unique(np.round(np.linspace(0, n_kept - 1, max_frames)).astype(int))


def view_data(
    gammas: np.ndarray,
    U: np.ndarray,
    linkage: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    max_frames: int = MAX_FRAMES,
) -> dict[str, Any]:
    """The JSON-ready data of the view (see the module) of kept levels ``gammas``, iterates
    ``U`` (kept × n × p) and the path's SciPy ``linkage`` (heights in γ)."""
    from scipy.cluster.hierarchy import dendrogram

    from .figures import _log_heights

    n = U.shape[1]
    if len(gammas) != len(U) or len(linkage) != n - 1:
        raise ConfigError(
            f"path view: {len(gammas)} levels, {len(U)} iterates and {len(linkage)} merges "
            f"for {n} observations do not match"
        )
    if names is not None and len(names) != n:
        raise ConfigError(f"path view: {len(names)} names for {n} observations")
    steps = frame_steps(len(gammas), max_frames)
    mean, axes, share = principal_axes(U[0])
    P = (U[steps] - mean) @ axes  # frames × n × 2
    low = P.reshape(-1, 2).min(axis=0)
    span = np.maximum(P.reshape(-1, 2).max(axis=0) - low, 1e-12)
    grid = np.round((P - low) / span * GRID).astype(int)
    Z, log_floor = _log_heights(linkage)
    tree = dendrogram(Z, no_plot=True)
    return {
        "n": n,
        "gammas": [float(f"{g:.6g}") for g in gammas[steps]],
        "steps": steps.tolist(),
        "merges": np.searchsorted(linkage[:, 2], gammas[steps], side="right").tolist(),
        "box": [float(low[0]), float(low[1]), float(span[0]), float(span[1])],
        "xy": grid.reshape(len(steps), -1).tolist(),
        "links": linkage[:, :2].astype(int).tolist(),
        "leaves": [int(i) for i in tree["leaves"]],
        "icoord": np.round(tree["icoord"], 3).tolist(),
        "dcoord": np.round(tree["dcoord"], 5).tolist(),
        "log_floor": log_floor,
        "top": float(max(Z[:, 2].max(), 1e-12)) if len(Z) else 1.0,
        "share": [round(float(s), 4) for s in share],
        "names": [str(x) for x in names] if names is not None else None,
    }


def decode(data: dict[str, Any]) -> np.ndarray:
    """The projections (frames × n × 2) encoded in a view's data (inverse of the integer grid,
    to 10⁻⁴ of the bounding box)."""
    xy = np.asarray(data["xy"], dtype=np.float64).reshape(len(data["xy"]), data["n"], 2)
    x0, y0, sx, sy = data["box"]
    return xy / GRID * np.array([sx, sy]) + np.array([x0, y0])


def _arrays(path: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.asarray(path.gammas), np.asarray(path.U), np.asarray(path.linkage)


def path_view_fragment(
    path: Any = None,
    *,
    gammas: np.ndarray | None = None,
    U: np.ndarray | None = None,
    linkage: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    title: str = "",
    what: str = "observations",
    element_id: str | None = None,
    max_frames: int = MAX_FRAMES,
) -> str:
    """The view as one ``<div>`` (its style, SVG, data and script inside; several can share a
    page) of a :class:`~algoreg.clustering.path.ClusterPath`, or of ``gammas``, ``U`` and
    ``linkage`` given apart (e.g. a biclustering path's rows, or its columns with U
    transposed; ``what`` names the items, e.g. "columns"). ``element_id`` (default: from a
    hash of the data) prefixes every id."""
    if path is not None:
        gammas, U, linkage = _arrays(path)
        title = title or f"{path.method} path (t = {path.t:g})"
    if gammas is None or U is None or linkage is None:
        raise ConfigError("path view: give a path, or gammas, U and linkage")
    data = view_data(
        np.asarray(gammas), np.asarray(U), np.asarray(linkage), names=names, max_frames=max_frames
    )
    data["what"] = str(what)
    payload = json.dumps(data, separators=(",", ":"))
    if element_id is None:
        element_id = "pathview-" + hashlib.sha256(payload.encode()).hexdigest()[:10]
    if not element_id.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"path view: element_id {element_id!r} must be letters, digits, - or _")
    safe = payload.replace("</", "<\\/")
    return _TEMPLATE.format(
        id=element_id,
        title=html_lib.escape(title or "clustering path"),
        data=safe,
        script=_SCRIPT.replace("__ID__", element_id).replace("__PALETTE__", json.dumps(PALETTE)),
    )


def bicluster_views(
    path: Any,
    *,
    row_names: Sequence[str] | None = None,
    col_names: Sequence[str] | None = None,
    title: str = "",
    prefix: str = "",
) -> list[str]:
    """The two views of a :class:`~algoreg.clustering.bicluster.BiclusterPath`: its rows, and
    its columns (U transposed), with element ids ``{prefix}rows`` and ``{prefix}columns``."""
    return [
        path_view_fragment(
            gammas=path.gammas,
            U=U,
            linkage=linkage,
            names=names,
            title=f"{title}: {what}" if title else what,
            what=what,
            element_id=f"{prefix}{what}",
        )
        for what, U, linkage, names in (
            ("rows", path.U, path.row_linkage, row_names),
            ("columns", path.U.transpose(0, 2, 1), path.col_linkage, col_names),
        )
    ]


def path_view_html(path: Any = None, *, title: str = "", **kwargs: Any) -> str:
    """A full self-contained HTML page holding :func:`path_view_fragment`."""
    fragment = path_view_fragment(path, title=title, **kwargs)
    head = html_lib.escape(title or (f"{path.method} path" if path is not None else "path"))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{head}</title></head>\n<body style="margin:16px">\n{fragment}\n</body></html>\n'
    )


_TEMPLATE = """<div id="{id}" class="algoreg-pathview" style="font:13px sans-serif;max-width:940px">
<style>
#{id} svg {{background:#fff;border:1px solid #ddd}}
#{id} .traj {{fill:none;stroke-width:0.7;opacity:0.35}}
#{id} .controls {{margin:6px 0;display:flex;gap:10px;align-items:center}}
#{id} input[type=range] {{flex:1}}
</style>
<div><b>{title}</b></div>
<div class="controls"><button type="button" id="{id}-play">play</button>
<input type="range" id="{id}-slider" min="0" max="0" value="0" step="1">
<span id="{id}-caption" style="min-width:260px"></span></div>
<svg id="{id}-svg" width="920" height="440" viewBox="0 0 920 440"></svg>
<script type="application/json" id="{id}-data">{data}</script>
<script>{script}</script>
</div>"""

# The view's script: plain DOM and SVG, no library. Left panel 0..450, right panel 470..910.
_SCRIPT = r"""(function () {
  var id = "__ID__", palette = __PALETTE__, NS = "http://www.w3.org/2000/svg";
  var root = document.getElementById(id);
  var d = JSON.parse(document.getElementById(id + "-data").textContent);
  var svg = document.getElementById(id + "-svg");
  var slider = document.getElementById(id + "-slider");
  var caption = document.getElementById(id + "-caption");
  var play = document.getElementById(id + "-play");
  var n = d.n, F = d.xy.length, G = 10000, pad = 34, W = 450, H = 440;
  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    (parent || svg).appendChild(e);
    return e;
  }
  // path panel: equal scales on both axes
  var sx = d.box[2], sy = d.box[3];
  var s = Math.min((W - 2 * pad) / sx, (H - 2 * pad) / sy);
  var ox = pad + ((W - 2 * pad) - s * sx) / 2, oy = H - pad - ((H - 2 * pad) - s * sy) / 2;
  function px(f, i) { return ox + d.xy[f][2 * i] / G * sx * s; }
  function py(f, i) { return oy - d.xy[f][2 * i + 1] / G * sy * s; }
  el("text", {x: W / 2, y: H - 8, "text-anchor": "middle"}).textContent =
    "PC1 (" + Math.round(100 * d.share[0]) + "% of the variance)";
  var yl = el("text", {x: 12, y: H / 2, "text-anchor": "middle",
    transform: "rotate(-90 12 " + H / 2 + ")"});
  yl.textContent = "PC2 (" + Math.round(100 * d.share[1]) + "%)";
  var trajs = [], dots = [];
  for (var i = 0; i < n; i++) {
    var pts = [];
    for (var f = 0; f < F; f++) pts.push(px(f, i).toFixed(1) + "," + py(f, i).toFixed(1));
    trajs.push(el("polyline", {"class": "traj", points: pts.join(" "), stroke: "#999"}));
  }
  for (var i = 0; i < n; i++) {
    var c = el("circle", {r: 3.6, stroke: "#222", "stroke-width": 0.4});
    var t = el("title", {}, c);
    t.textContent = d.names ? d.names[i] : "row " + i;
    dots.push(c);
  }
  // dendrogram panel
  var X0 = 470, DW = 440, top = d.top;
  function dx(v) { return X0 + pad + v / (10 * n) * (DW - 2 * pad); }
  function dy(v) { return H - pad - v / top * (H - 2 * pad); }
  el("text", {x: X0 + DW / 2, y: H - 8, "text-anchor": "middle"}).textContent =
    n + " " + d.what + " (dendrogram, γ on a log scale)";
  for (var j = 0; j < d.icoord.length; j++) {
    var pts = [];
    for (var q = 0; q < 4; q++)
      pts.push(dx(d.icoord[j][q]).toFixed(1) + "," + dy(d.dcoord[j][q]).toFixed(1));
    el("polyline", {points: pts.join(" "), fill: "none", stroke: "#555", "stroke-width": 0.8});
  }
  for (var e = Math.ceil(d.log_floor); e <= d.log_floor + top + 1e-9; e++) {
    var y = dy(e - d.log_floor);
    el("line", {x1: X0 + pad - 4, x2: X0 + pad, y1: y, y2: y, stroke: "#333"});
    var tick = el("text", {x: X0 + pad - 6, y: y + 4, "text-anchor": "end", "font-size": 10});
    tick.textContent = "1e" + e;
  }
  var leafDots = [];
  var leafR = Math.max(1.2, Math.min(3.5, 150 / n));
  for (var j = 0; j < d.leaves.length; j++)
    leafDots.push(el("circle", {cx: dx(10 * j + 5), cy: dy(0) + 6, r: leafR}));
  var level = el("line", {x1: X0 + pad, x2: X0 + DW - pad, stroke: "#d00", "stroke-width": 1.2,
    "stroke-dasharray": "5,3"});
  // clusters after m merges: colour of the larger part
  function colours(m) {
    var members = {}, colour = {};
    for (var i = 0; i < n; i++) { members[i] = [i]; colour[i] = palette[i % palette.length]; }
    for (var r = 0; r < m; r++) {
      var a = d.links[r][0], b = d.links[r][1];
      var big = members[a].length >= members[b].length ? a : b;
      members[n + r] = members[a].concat(members[b]);
      colour[n + r] = colour[big];
      delete members[a]; delete members[b];
    }
    var out = new Array(n);
    for (var key in members)
      for (var q = 0; q < members[key].length; q++) out[members[key][q]] = colour[key];
    return out;
  }
  function show(f) {
    var col = colours(d.merges[f]);
    for (var i = 0; i < n; i++) {
      dots[i].setAttribute("cx", px(f, i)); dots[i].setAttribute("cy", py(f, i));
      dots[i].setAttribute("fill", col[i]); trajs[i].setAttribute("stroke", col[i]);
    }
    for (var j = 0; j < d.leaves.length; j++) leafDots[j].setAttribute("fill", col[d.leaves[j]]);
    var g = d.gammas[f];
    var h = g > 0 ? Math.min(Math.max(Math.log10(g) - d.log_floor, 0), top) : 0;
    level.setAttribute("y1", dy(h)); level.setAttribute("y2", dy(h));
    caption.textContent = "step " + d.steps[f] + ": γ = " + g.toPrecision(3) + ", " +
      (n - d.merges[f]) + " clusters";
  }
  slider.max = F - 1;
  slider.addEventListener("input", function () { show(+slider.value); });
  var timer = null;
  play.addEventListener("click", function () {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "play"; return; }
    if (+slider.value >= F - 1) slider.value = 0;
    play.textContent = "pause";
    timer = setInterval(function () {
      var f = +slider.value + 1;
      if (f >= F) { clearInterval(timer); timer = null; play.textContent = "play"; return; }
      slider.value = f; show(f);
    }, Math.max(20, Math.min(120, 6000 / F)));
  });
  root.pathView = {show: show, frames: F};
  show(0);
})();"""
