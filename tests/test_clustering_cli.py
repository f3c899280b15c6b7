"""``algoreg cluster FILE.csv``: labels, a dendrogram and a path figure; bad input is one
``algoreg: error: cluster: …`` line with exit status 2."""

import numpy as np
import pytest
from test_clustering_study import blobs

from algoreg.cli import main

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


@pytest.fixture
def data(tmp_path):
    X, y = blobs(per=10)
    np.savetxt(tmp_path / "toy.csv", X, delimiter=",", header="a,b", comments="")
    np.savetxt(tmp_path / "labels.csv", y, fmt="%d", header="label", comments="")
    names = "name\n" + "\n".join(f"row {i}" for i in range(len(X))) + "\n"
    (tmp_path / "names.csv").write_text(names)
    return tmp_path


@pytest.mark.parametrize("method", ["carp", "carp-viz", "exact"])
def test_cluster_writes_labels_and_figures(data, capsys, method):
    out = data / "out"
    argv = ["cluster", str(data / "toy.csv"), "--labels", str(data / "labels.csv")]
    argv += ["--names", str(data / "names.csv"), "--method", method, "--t", "1.1"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "30×2" in printed and "3 clusters (sizes [10, 10, 10]), ARI 1.0000" in printed
    lines = (out / "labels.csv").read_text().splitlines()
    assert lines[0] == "row,cluster,name" and len(lines) == 31
    clusters = np.array([int(line.split(",")[1]) for line in lines[1:]])
    assert all(len(set(clusters[i : i + 10])) == 1 for i in (0, 10, 20))  # the blobs
    assert len(set(clusters)) == 3
    for name in ("dendrogram.png", "path.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "path.html").read_text()
    assert "wrote " in printed and "path.html" in printed
    assert page.startswith("<!DOCTYPE html>") and "https://" not in page and "row 7" in page


def test_cluster_defaults_to_two_clusters_without_labels(data, capsys, monkeypatch):
    monkeypatch.chdir(data)
    assert main(["cluster", "toy.csv"]) == 0
    assert "2 clusters" in capsys.readouterr().out
    assert (data / "runs" / "cluster-toy" / "labels.csv").is_file()


@pytest.mark.parametrize(
    ("extra", "content", "message"),
    [
        ([], None, "cluster: .*missing.csv: no such file"),
        ([], "a,b\n1,x\n", "cluster: .*line 2, column 'b': 'x' is not a number"),
        ([], "a,b\n1,2\n", "cluster: X must have at least 2 observations"),
        (["--t", "1.0"], "a,b\n1,2\n3,4\n", "cluster: t must be > 1"),
        (["--n-clusters", "5"], "a,b\n1,2\n3,4\n", "cluster: n_clusters must be <= 2"),
        (["--labels", "{dir}/toy.csv"], "a\n1\n2\n3\n", "cluster: --labels has 30 rows"),
        (["--method", "fast"], "a\n1\n2\n", "cluster: argument --method: invalid choice"),
    ],
)
def test_cluster_errors_are_one_line(data, capsys, extra, content, message):
    import re

    csv = data / ("missing.csv" if content is None else "bad.csv")
    if content is not None:
        csv.write_text(content)
    extra = [e.format(dir=data) for e in extra]
    assert main(["cluster", str(csv), *extra, "--out", str(data / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("algoreg: error: cluster: ") and "Traceback" not in err
    assert re.search(message, err), err


@pytest.fixture
def blocks(tmp_path):
    """A 12 × 10 block matrix (3 row × 2 column groups, shuffled) with two empty cells."""
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(np.repeat([0, 1, 2], 4)), rng.permutation(np.repeat([0, 1], 5))
    means = np.array([[-3.0, 3.0], [3.0, 0.0], [0.0, -3.0]])
    X = means[rows][:, cols] + 0.15 * rng.standard_normal((12, 10))
    lines = [",".join(f"w{j}" for j in range(10))]
    for i, row in enumerate(X):
        cells = [f"{v:.6f}" for v in row]
        if i in (2, 7):
            cells[i % 10] = ""  # missing
        lines.append(",".join(cells))
    (tmp_path / "blocks.csv").write_text("\n".join(lines) + "\n")
    np.savetxt(tmp_path / "rows.csv", rows, fmt="%d", header="group", comments="")
    return tmp_path, rows, cols


def test_bicluster_writes_both_labelings_the_heat_map_and_the_views(blocks, capsys):
    folder, rows, cols = blocks
    out = folder / "bi"
    argv = ["cluster", str(folder / "blocks.csv"), "--bicluster", "--n-clusters", "3"]
    argv += ["--labels", str(folder / "rows.csv"), "--out", str(out), "--t", "1.05"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "12×10 (2 missing), cbass t=1.05" in printed and "row ARI 1.0000" in printed
    got_rows = np.loadtxt(out / "row_labels.csv", delimiter=",", skiprows=1, dtype=int)[:, 1]
    col_lines = (out / "col_labels.csv").read_text().splitlines()
    assert col_lines[0] == "row,cluster,name" and col_lines[1].endswith(",w0")
    got_cols = np.array([int(line.split(",")[1]) for line in col_lines[1:]])
    assert len(set(zip(got_rows, rows, strict=True))) == 3
    assert len(set(zip(got_cols, cols, strict=True))) == 2
    for name in ("row_dendrogram.png", "col_dendrogram.png", "heatmap.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "path.html").read_text()
    assert 'id="rows-data"' in page and 'id="columns-data"' in page and "https://" not in page


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bicluster", "--method", "carp-viz"], "carp-viz has no biclustering variant"),
        (["--method", "cbass"], "--method cbass biclusters: add --bicluster"),
        (["--bicluster", "--scale"], "--scale does not apply to --bicluster"),
        (["--bicluster", "--n-col-clusters", "11"], "n_col_clusters must be <= 10"),
        ([], "impute them first \\(or bicluster\\)"),
    ],
)
def test_bicluster_errors_are_one_line(blocks, capsys, extra, message):
    import re

    folder, _, _ = blocks
    assert main(["cluster", str(folder / "blocks.csv"), *extra, "--out", str(folder / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("algoreg: error: cluster: ") and re.search(message, err), err
