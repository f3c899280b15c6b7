"""The dynamic path view: a self-contained HTML fragment whose embedded data round-trips to the
path's projections on the principal axes, one frame per kept iterate (or a documented
downsampling), linked to the dendrogram."""

import json
import re

import numpy as np
import pytest

from algoreg.clustering import carp, gaussian_knn_weights, preprocess
from algoreg.clustering.data import principal_axes
from algoreg.clustering.pathview import (
    GRID,
    decode,
    frame_steps,
    path_view_fragment,
    path_view_html,
)
from algoreg.errors import ConfigError


def blobs(seed=0, size=10):
    rng = np.random.default_rng(seed)
    centers = [(0.0, 0.0, 0.0), (5.0, 0.0, 1.0), (2.5, 4.0, -1.0)]
    return preprocess(np.vstack([rng.normal(c, 0.5, (size, 3)) for c in centers]))


@pytest.fixture(scope="module")
def path():
    X = blobs()
    return carp(X, gaussian_knn_weights(X), t=1.05)


def embedded(html: str, element_id: str) -> dict:
    match = re.search(
        rf'<script type="application/json" id="{element_id}-data">(.*?)</script>', html, re.S
    )
    assert match, "no embedded data"
    return json.loads(match.group(1))


def test_the_page_is_self_contained(path):
    page = path_view_html(path, title="blobs")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<link" not in page and "@import" not in page and "<iframe" not in page
    assert len(re.findall(r"<script\b(?![^>]*\bsrc=)", page)) == 2  # data + inline code
    assert len(page) < 200_000


def test_one_frame_per_kept_step_and_the_data_round_trips(path):
    frag = path_view_fragment(path, element_id="v1")
    data = embedded(frag, "v1")
    kept = len(path.gammas)
    assert data["steps"] == list(range(kept)) and len(data["xy"]) == kept
    np.testing.assert_allclose(data["gammas"], path.gammas, rtol=1e-5)
    mean, axes, _ = principal_axes(path.U[0])
    want = (path.U - mean) @ axes
    span = want.reshape(-1, 2).max(0) - want.reshape(-1, 2).min(0)
    assert np.all(np.abs(decode(data) - want) <= span / GRID)  # half a grid step, and some
    # the dendrogram link: merges at or below each frame's γ, the number of clusters shown
    for f, g in enumerate(path.gammas):
        assert data["merges"][f] == int(np.sum(path.linkage[:, 2] <= g))
        assert len(np.unique(path.cut(height=g))) == data["n"] - data["merges"][f]
    assert data["links"] == path.linkage[:, :2].astype(int).tolist()
    assert sorted(data["leaves"]) == list(range(data["n"]))


def test_a_long_path_is_downsampled_keeping_the_ends(path):
    assert frame_steps(5, 10).tolist() == [0, 1, 2, 3, 4]
    steps = frame_steps(1000, 300)
    assert len(steps) == 300 and steps[0] == 0 and steps[-1] == 999
    assert np.all(np.diff(steps) > 0)
    data = embedded(path_view_fragment(path, element_id="v2", max_frames=7), "v2")
    assert len(data["xy"]) == 7 and data["steps"][0] == 0
    assert data["steps"][-1] == len(path.gammas) - 1
    mean, axes, _ = principal_axes(path.U[0])
    want = (path.U[data["steps"]] - mean) @ axes
    np.testing.assert_allclose(decode(data), want, atol=1e-3 * np.abs(want).max())


def test_fragments_share_a_page_and_names_are_escaped(path):
    n = path.U.shape[1]
    names = [f"</script><b>{i}" for i in range(n)]
    a = path_view_fragment(path, element_id="a", names=names)
    b = path_view_fragment(gammas=path.gammas, U=path.U, linkage=path.linkage, element_id="b")
    assert a.count("</script>") == 2  # the names cannot close the data block
    assert embedded(a, "a")["names"] == names
    assert 'id="a-slider"' in a and 'id="b-slider"' in b and "a-slider" not in b
    default = path_view_fragment(path)
    assert re.search(r'id="pathview-[0-9a-f]{10}"', default)


def test_bad_arguments(path):
    with pytest.raises(ConfigError, match="give a path, or gammas, U and linkage"):
        path_view_fragment(gammas=path.gammas)
    with pytest.raises(ConfigError, match="do not match"):
        path_view_fragment(gammas=path.gammas[:-1], U=path.U, linkage=path.linkage)
    with pytest.raises(ConfigError, match="names for"):
        path_view_fragment(path, names=["a"])
    with pytest.raises(ConfigError, match="element_id"):
        path_view_fragment(path, element_id="x y")
    with pytest.raises(ConfigError, match="max_frames must be >= 2"):
        path_view_fragment(path, max_frames=1)


def _clustering_row(method="carp", t=1.05, data="iris", path=None, **extra):
    import dataclasses

    from algoreg.clustering.study import ClusteringSettings

    settings = dataclasses.asdict(ClusteringSettings(method=method, t=t))
    row = {f"model.{k}": v for k, v in settings.items()}
    row.update({"model.kind": "convex_clustering", "status": "converged"})
    row.update({"problem.data": data, "problem.path": path, "problem.labels": None, **extra})
    return row


def test_the_report_section_draws_one_path_per_data_set_from_the_plainest_trial(tmp_path):
    """The HTML report's clustering section recomputes one path per data set (CARP preferred,
    t nearest the default), as self-contained path views; an unreadable data folder is named,
    not dropped."""
    pytest.importorskip("sklearn")
    from types import SimpleNamespace

    from algoreg.clustering.report_section import chosen_trials, render

    rows = [
        _clustering_row("exact", 1.05),
        _clustering_row("carp", 1.1),
        _clustering_row("carp", 1.05),
        _clustering_row("carp", 1.05, data="gone", path=str(tmp_path / "nowhere")),
    ]
    chosen = chosen_trials(rows)
    assert list(chosen) == ["gone", "iris"]
    assert chosen["iris"]["model.method"] == "carp" and chosen["iris"]["model.t"] == 1.05
    page = render(SimpleNamespace(name="my study", rows=rows))
    assert 'id="my-study-iris-path"' in page  # one view for iris, ids safe for the page
    assert page.count('class="algoreg-pathview"') == 1
    assert "No path view of gone" in page and "does not exist" in page
    assert not re.search(r'(src|href)="https?://', page)
    data = json.loads(re.search(r'id="my-study-iris-path-data"[^>]*>(.*?)</script>', page, re.S)[1])
    assert data["what"] == "observations" and len(data["gammas"]) > 10
