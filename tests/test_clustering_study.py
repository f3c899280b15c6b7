"""Convex clustering as a study (the trial kind ``convex_clustering``): data sets named in
``[problem]``, the store, resume and archive of ``algoreg run``, path agreement with the
exact solutions, the presets' checks on the shared data when it is present."""

import json
from pathlib import Path

import numpy as np
import pytest

from algoreg.cli import main
from algoreg.clustering import carp, gaussian_knn_weights, preprocess
from algoreg.clustering.compare import path_errors
from algoreg.clustering.datasets import adjusted_rand_index, check_dataset
from algoreg.errors import ConfigError
from algoreg.studies import expand, load_study

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "clustering"


def blobs(seed: int = 0, per: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated 2-D Gaussian blobs and their labels."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    X = np.concatenate([c + 0.3 * rng.standard_normal((per, 2)) for c in centers])
    return X, np.repeat([1, 2, 3], per)


@pytest.fixture
def folder(tmp_path):
    X, y = blobs()
    np.savetxt(tmp_path / "toy.csv", X, delimiter=",", header="a,b", comments="")
    np.savetxt(tmp_path / "toy_labels.csv", y, fmt="%d", header="label", comments="")
    return tmp_path


def test_ari_matches_known_values():
    a = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(a, np.array(["x", "x", "y", "y", "z", "z"])) == 1.0
    assert adjusted_rand_index(a, np.array([0, 0, 0, 0, 0, 0])) == 0.0
    b = np.array([0, 0, 1, 1, 1, 2])
    assert adjusted_rand_index(a, b) == pytest.approx(4 / 9, abs=1e-12)  # by hand
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(20):
        u, v = rng.integers(0, 4, 30), rng.integers(0, 3, 30)
        assert adjusted_rand_index(u, v) == pytest.approx(metrics.adjusted_rand_score(u, v))


def test_dataset_is_named_by_content_and_errors_name_the_key(folder, tmp_path):
    got = check_dataset({"data": "toy", "path": str(folder), "labels": "toy_labels"})
    assert got["path"] == str(folder.resolve()) and len(got["data_sha256"]) == 16
    assert check_dataset({"data": "iris"}) == {"data": "iris", "path": None, "labels": None}
    with pytest.raises(ConfigError, match=r"does not exist.*did you mean 'toy'"):
        check_dataset({"data": "tyo", "path": str(folder)})
    with pytest.raises(ConfigError, match=r"data folder .* does not exist \(pass --data DIR\)"):
        check_dataset({"data": "toy", "path": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match="not bundled with scikit-learn"):
        check_dataset({"data": "blobs"})
    with pytest.raises(ConfigError, match="unknown key"):
        check_dataset({"data": "iris", "kind": "completion"})


def test_carp_approaches_the_exact_path_as_t_goes_to_one():
    X = preprocess(blobs(seed=1)[0])
    graph = gaussian_knn_weights(X)
    errors = [path_errors(carp(X, graph, t=t), X)[1].max() for t in (1.1, 1.01)]
    assert errors[1] < 0.5 * errors[0] and errors[1] < 0.05


def study_text(folder: Path) -> str:
    return (
        f'name = "toy-clustering"\n[problem]\ndata = "toy"\nlabels = "toy_labels"\n'
        f"path = {json.dumps(str(folder))}\n"
        '[model]\nkind = "convex_clustering"\nvs_exact = true\n'
        '[grid]\n"model.t" = [1.1, 1.02]\n'
        '[report]\nx = "model.t"\ny = "path_error"\nmetrics = ["ari", "speedup"]\n'
    )


def test_a_clustering_study_runs_resumes_and_archives(folder, tmp_path, capsys):
    study = tmp_path / "study.toml"
    study.write_text(study_text(tmp_path / "elsewhere"))  # --data gives the folder
    out, args = tmp_path / "out", ["--jobs", "1", "--no-progress", "--data", str(folder)]
    assert main(["run", str(study), "--out", str(out), *args]) == 0
    assert "2 trials, 0 already stored, 2 run now" in capsys.readouterr().out
    assert main(["run", str(study), "--out", str(out), *args]) == 0
    assert "2 already stored, 0 run now" in capsys.readouterr().out
    archive = tmp_path / "toy.jsonl.gz"
    assert main(["export", str(out), "--archive", str(archive)]) == 0
    capsys.readouterr()
    assert main(["results", str(archive), "--format", "json"]) == 0
    rows = sorted(json.loads(capsys.readouterr().out), key=lambda r: -r["model.t"])
    assert [r["method"] for r in rows] == ["carp", "carp"]
    for r in rows:
        assert r["ari"] == 1.0 and r["monotone"] == 1.0 and r["status"] == "converged"
        assert r["speedup"] > 1.0 and r["exact_iterations"] > r["iterations"]
    assert rows[1]["path_error"] < 0.5 * rows[0]["path_error"]


def test_trial_ids_leave_the_data_folder_out(folder, tmp_path):
    other = tmp_path / "copy"
    other.mkdir()
    for f in folder.glob("toy*.csv"):
        (other / f.name).write_bytes(f.read_bytes())
    ids = [
        [t.trial_id for t in expand(load_study(text=study_text(where)))]
        for where in (folder, other)
    ]
    assert ids[0] == ids[1]


def test_bad_settings_are_named_at_load(folder):
    text = study_text(folder)
    with pytest.raises(ConfigError, match=r"model\.t: t must be > 1"):
        load_study(text=text.replace("[1.1, 1.02]", "[1.1, 1.0]"))
    with pytest.raises(ConfigError, match=r"problem\.data: .*does not exist"):
        load_study(text=text.replace('data = "toy"', 'data = "nope"'))
    with pytest.raises(ConfigError, match=r"model\.method: .*carp-viz"):
        load_study(text=text.replace("vs_exact = true", 'method = "cap"'))


@pytest.mark.skipif(not (SHARED / "blobs.csv").is_file(), reason="shared clustering data absent")
def test_cuts_preset_quick_on_the_shared_data(tmp_path, capsys):
    out = tmp_path / "cuts"
    args = ["--quick", "--data", str(SHARED), "--out", str(out), "--jobs", "1", "--no-progress"]
    assert main(["reproduce", "weylandt2020-cuts", *args, "--only", "model.method=carp"]) == 0
    printed = capsys.readouterr().out
    assert "check: agrees: the 3-cluster cut of the blobs" in printed
    assert "check: agrees: every path gives a dendrogram" in printed


def bicluster_text(folder: Path) -> str:
    return (
        f'name = "toy-bicluster"\n[problem]\ndata = "blocks"\npath = {json.dumps(str(folder))}\n'
        '[model]\nkind = "convex_clustering"\nmethod = "cbass"\nvs_exact = true\n'
        '[grid]\n"model.t" = [1.1, 1.02]\n'
        '[report]\nx = "model.t"\ny = "path_error"\nmetrics = ["cut_agreement", "speedup"]\n'
    )


def test_a_biclustering_study_compares_cbass_with_its_exact_path(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(np.repeat([0, 1, 2], 4)), rng.permutation(np.repeat([0, 1], 4))
    X = np.array([[-3.0, 3.0], [3.0, 0.0], [0.0, -3.0]])[rows][:, cols]
    X += 0.2 * rng.standard_normal(X.shape)
    np.savetxt(tmp_path / "blocks.csv", X, delimiter=",", header="a,b,c,d,e,f,g,h", comments="")
    study = tmp_path / "study.toml"
    study.write_text(bicluster_text(tmp_path))
    out = tmp_path / "out"
    assert main(["run", str(study), "--out", str(out), "--jobs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["results", str(out), "--format", "json"]) == 0
    rows_ = sorted(json.loads(capsys.readouterr().out), key=lambda r: -r["model.t"])
    assert [r["method"] for r in rows_] == ["cbass", "cbass"]
    for r in rows_:
        assert r["status"] == "converged" and r["monotone"] == 1.0 and r["n_edges"] > 0
        assert r["exact_iterations"] > r["iterations"] and r["speedup"] > 1.0
        assert -1.0 <= r["cut_agreement"] <= 1.0  # a mean adjusted Rand index
        assert 0.9 <= r["tree_agreement"] <= 1.0 + 1e-12
    assert rows_[1]["path_error"] < 0.5 * rows_[0]["path_error"]
    assert rows_[1]["path_error"] < 0.05


def test_bicluster_settings_are_checked_at_load(tmp_path):
    (tmp_path / "blocks.csv").write_text("a,b\n1,2\n3,4\n")
    text = bicluster_text(tmp_path)
    with pytest.raises(ConfigError, match=r"model\.method: .*cbass-exact"):
        load_study(text=text.replace('method = "cbass"', 'method = "cbas"'))
    with pytest.raises(ConfigError, match=r"vs_exact compares .* method is cbass-exact"):
        load_study(text=text.replace('method = "cbass"', 'method = "cbass-exact"'))
    with pytest.raises(ConfigError, match=r"biclustering fuses with the 2-norm only"):
        load_study(text=text.replace("vs_exact = true", "vs_exact = true\nq = 1"))
    with pytest.raises(ConfigError, match=r"scale: biclustering does not scale columns"):
        load_study(text=text.replace("vs_exact = true", "vs_exact = true\nscale = true"))


@pytest.mark.slow  # the exact biclustering path at t = 1.1: one to three minutes
@pytest.mark.skipif(
    not (SHARED / "presidential_speech.csv").is_file(), reason="shared clustering data absent"
)
def test_cbass_preset_on_the_shared_data(tmp_path, capsys):
    out = tmp_path / "cbass"
    args = ["--data", str(SHARED), "--out", str(out), "--jobs", "1", "--no-progress"]
    assert main(["reproduce", "weylandt2020-cbass", *args, "--only", "model.t=1.1"]) == 0
    printed = capsys.readouterr().out
    assert "check: agrees: both paths give dendrograms" in printed
    assert "1 run now" in printed and "2 left for later by --only" in printed


def test_cophenetic_agreement_of_dendrograms():
    from scipy.cluster.hierarchy import linkage

    from algoreg.clustering.study import cophenetic_agreement

    rng = np.random.default_rng(0)
    Z = linkage(rng.normal(size=(12, 3)), "average")
    scaled = Z.copy()
    scaled[:, 2] *= 7.0  # the same tree on another scale of γ
    assert cophenetic_agreement(Z, Z) == pytest.approx(1.0)
    assert cophenetic_agreement(Z, scaled) == pytest.approx(1.0)
    other = linkage(rng.normal(size=(12, 3)), "average")
    assert cophenetic_agreement(Z, other) < 0.9
