import os
import re
from pathlib import Path

import numpy as np
import pytest

import algoreg.datasets as ds
from algoreg.errors import ConfigError


def ml100k_path() -> Path:
    """The real MovieLens-100K folder ($ALGOREG_ML100K, else ../shared/data/ml-100k)."""
    env = os.environ.get("ALGOREG_ML100K")
    return Path(env) if env else Path(__file__).parents[2] / "shared/data/ml-100k"


needs_ml100k = pytest.mark.skipif(
    not (ml100k_path() / "u.data").is_file(), reason="MovieLens-100K not available"
)

# 4 users × 5 items, 1-based ids as in the files: (user, item, rating, timestamp)
ROWS = [
    (1, 1, 5, 100),
    (1, 3, 4, 101),
    (2, 2, 3, 102),
    (2, 5, 1, 103),
    (3, 1, 2, 104),
    (3, 4, 5, 105),
    (4, 2, 4, 106),
    (4, 5, 3, 107),
    (1, 5, 2, 108),
    (3, 3, 1, 109),
]


def write(path: Path, rows, header: str | None = None) -> Path:
    lines = ([header] if header else []) + ["\t".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """A small MovieLens-format folder: u.data plus a u1 split (rows 0–6 base, 7–9 test)."""
    write(tmp_path / "u.data", ROWS)
    write(tmp_path / "u1.base", ROWS[:7])
    write(tmp_path / "u1.test", ROWS[7:])
    return tmp_path


def test_read_round_trip(folder):
    r = ds.read_ratings_file(folder / "u.data")
    assert r.shape == (4, 5) and len(r) == 10
    assert r.users.tolist() == [u - 1 for u, *_ in ROWS]  # 0-based
    assert r.items.tolist() == [i - 1 for _, i, *_ in ROWS]
    assert r.values.tolist() == [float(x) for _, _, x, _ in ROWS]
    assert r.timestamps.tolist() == [t for *_, t in ROWS]
    assert r.lines.tolist() == list(range(1, 11))
    assert ds.read_ratings_file(folder / "u.data", shape=(10, 20)).shape == (10, 20)


def test_canonical_split_on_synthetic_files(folder):
    p = ds.movielens100k(folder, "u1", strict=False)
    assert (p.shape, p.n_obs, p.n_test) == ((4, 5), 7, 3)
    assert p.offset == pytest.approx(np.mean([r[2] for r in ROWS[:7]]))
    for (u, i, x, _), train in [(r, True) for r in ROWS[:7]] + [(r, False) for r in ROWS[7:]]:
        assert p.values[u - 1, i - 1] == x
        assert p.mask[u - 1, i - 1] == train and p.test_mask[u - 1, i - 1] != train
    assert p.mask.sum() == 7 and p.test_mask.sum() == 3
    with pytest.raises(ds.DataFileError, match=r"has 10 ratings, expected 100000"):
        ds.movielens100k(folder, "u1")  # strict: the published counts


def test_random_and_arora_splits_are_seeded_and_nested(folder):
    tr, te = ds.split_movielens100k(folder, "random", test_fraction=0.3, seed=4, strict=False)
    assert (len(tr), len(te)) == (7, 3)
    assert np.intersect1d(tr.keys, te.keys).size == 0
    assert np.union1d(tr.keys, te.keys).size == 10
    again = ds.split_movielens100k(folder, "random", test_fraction=0.3, seed=4, strict=False)
    assert np.array_equal(again[1].keys, te.keys)
    seeds = {
        tuple(ds.split_movielens100k(folder, "random", seed=s, strict=False)[1].keys)
        for s in range(6)
    }
    assert len(seeds) > 1  # the seed draws the split
    small, _ = ds.split_movielens100k(folder, "arora", n_train=3, seed=1, strict=False)
    big, rest = ds.split_movielens100k(folder, "arora", n_train=6, seed=1, strict=False)
    assert (len(small), len(big), len(rest)) == (3, 6, 4)
    assert set(small.keys) <= set(big.keys)  # nested in n_train for a fixed seed
    with pytest.raises(ConfigError, match=r"n_train must be <= 9"):
        ds.split_movielens100k(folder, "arora", n_train=10, strict=False)


def error_message(tmp_path, rows, header=None, **kwargs) -> str:
    file = write(tmp_path / "u.data", rows, header)
    with pytest.raises(ds.DataFileError) as info:
        ds.read_ratings_file(file, **kwargs)
    assert info.value.file == str(file)
    return str(info.value).replace(str(file), "FILE")


def test_format_errors_name_file_and_line(tmp_path):
    bad = [*ROWS[:2], ("x", 2, 3, 4), *ROWS[2:]]
    assert error_message(tmp_path, bad) == (
        "FILE line 3: non-numeric field in 'x\\t2\\t3\\t4'; expected integers user, item, "
        "rating, timestamp (rating may be a number)"
    )
    assert error_message(tmp_path, [*ROWS[:4], (1, 2, 3)]) == (
        "FILE line 5: expected 4 tab-separated fields (user, item, rating, timestamp), "
        "got 3: '1\\t2\\t3'"
    )
    assert error_message(tmp_path, [*ROWS, (2, 5, 4, 200)]) == (
        "FILE line 11: duplicated (user 2, item 5), first rated on line 4"
    )
    assert error_message(tmp_path, [*ROWS, (3, 0, 4, 200)]) == (
        "FILE line 11: item id 0 is outside 1..5"
    )
    assert error_message(tmp_path, ROWS, shape=(3, 5)) == "FILE line 7: user id 4 is outside 1..3"
    assert error_message(tmp_path, [*ROWS, (2, 4, 6, 1)], rating_range=(1, 5)) == (
        "FILE line 11: rating 6 is outside 1..5"
    )
    assert error_message(tmp_path, [*ROWS[:3], (2, 4, "nan", 1)]) == (
        "FILE line 4: rating 'nan' is not finite"
    )
    (tmp_path / "u.data").write_text("1\t1\t5\t0\n\n2\t2\t4\t0\n\n\n")  # trailing blanks are fine
    with pytest.raises(ds.DataFileError, match=r"line 2: empty line"):
        ds.read_ratings_file(tmp_path / "u.data")
    (tmp_path / "u.data").write_bytes(b"1\t1\t5\t0\n2\t\xff\t4\t0\n")
    with pytest.raises(ds.DataFileError, match=r"line 2: not UTF-8"):
        ds.read_ratings_file(tmp_path / "u.data")
    (tmp_path / "u.data").write_text("1,1,5,0\n")  # comma-separated copies are refused
    with pytest.raises(ds.DataFileError, match="line 1: expected 4 tab-separated fields"):
        ds.read_ratings_file(tmp_path / "u.data")


def test_missing_data_says_where_to_get_it(tmp_path):
    with pytest.raises(ds.DataNotFoundError) as info:
        ds.movielens100k(tmp_path / "nowhere")
    message = str(info.value)
    assert "does not exist" in message
    assert "https://grouplens.org/datasets/movielens/100k/" in message
    assert "licence forbids redistribution" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ConfigError)
    (tmp_path / "ml-100k").mkdir()
    write(tmp_path / "ml-100k" / "u.data", ROWS)
    with pytest.raises(ds.DataNotFoundError, match=re.escape(f"did you mean {tmp_path}/ml-100k")):
        ds.movielens100k(tmp_path)
    with pytest.raises(ds.DataNotFoundError, match=r"u1\.base not found\. MovieLens-100K"):
        ds.movielens100k(tmp_path / "ml-100k", "u1", strict=False)


def test_known_modified_copies_warn_and_skip_only_the_additions(tmp_path):
    header = "user_id\titem_id\trating\ttimestamp"
    user0 = [(0, 50, 5, 881250949), (0, 172, 5, 881250949), (0, 133, 1, 881250949)]
    write(tmp_path / "u.data", [*user0, *ROWS], header)
    with pytest.warns(ds.DataWarning) as record:
        r = ds.read_ratings_file(tmp_path / "u.data")
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert "line 1 'user_id\\titem_id\\trating\\ttimestamp' is a header" in messages[0]
    assert "3 rating(s) of user 0 (lines 2, 3, 4) skipped" in messages[1]
    assert "100,003-line" in messages[1]
    assert len(r) == len(ROWS) and r.shape == (4, 5)
    assert r.lines.tolist() == list(range(5, 15))  # line numbers of the file as it is
    # a header anywhere but on line 1 is an error, not a header
    write(tmp_path / "u.data", [*ROWS[:2], ("user", "item", "rating", "time")])
    with pytest.raises(ds.DataFileError, match="line 3: non-numeric field"):
        ds.read_ratings_file(tmp_path / "u.data")


def test_split_files_are_checked_against_u_data(folder):
    cases = [
        (
            [*ROWS[7:], ROWS[0]],
            r"\(user 1, item 1\) is in both .*u1\.base \(line 1\) and .*u1\.test \(line 4\)",
        ),
        (
            [*ROWS[7:9], (3, 3, 2, 109)],
            r"u1\.test line 3: rating 2 differs from .*u\.data line 10 \(1\)",
        ),
        ([*ROWS[7:], (2, 1, 4, 1)], r"u1\.test line 4: \(user 2, item 1\) is not rated in"),
    ]
    for rows, match in cases:
        write(folder / "u1.test", rows)
        with pytest.raises(ds.DataFileError, match=match):
            ds.movielens100k(folder, "u1", strict=False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split": "u1", "n_train": 10}, "n_train applies to split 'arora' only"),
        ({"split": "random", "test_fraction": 1.0}, "test_fraction must be < 1.0"),
        ({"split": "arora", "n_train": 0}, "n_train must be >= 1"),
        ({"split": "U1"}, "split must be one of"),
    ],
)
def test_split_parameters_are_validated(folder, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ds.movielens100k(folder, strict=False, **kwargs)


@needs_ml100k
def test_real_data_counts_and_canonical_splits():
    data = ds.load_movielens100k(ml100k_path())
    assert len(data) == 100_000 and data.shape == (943, 1682)
    assert np.unique(data.users).size == 943 and np.unique(data.items).size == 1682
    assert np.bincount(data.values.astype(int), minlength=6)[1:].tolist() == [
        6110,
        11370,
        27145,
        34174,
        21201,
    ]
    for split, sizes in (("u1", (80_000, 20_000)), ("ua", (90_570, 9_430))):
        train, test = ds.split_movielens100k(ml100k_path(), split)
        assert (len(train), len(test)) == sizes
        assert np.union1d(train.keys, test.keys).size == 100_000
    assert np.all(np.bincount(test.users, minlength=943) == 10)  # ua: 10 test ratings per user


@needs_ml100k
def test_real_data_modified_copy_reads_with_warnings(tmp_path):
    lines = (ml100k_path() / "u.data").read_text().splitlines()
    modified = ["user_id\titem_id\trating\ttimestamp", "0\t50\t5\t881250949", *lines]
    (tmp_path / "u.data").write_text("\n".join(modified) + "\n")
    with pytest.warns(ds.DataWarning, match="header"), pytest.warns(ds.DataWarning, match="user 0"):
        data = ds.load_movielens100k(tmp_path)
    assert len(data) == 100_000
    (tmp_path / "u.data").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ds.DataFileError, match="has 99999 ratings, expected 100000"):
        ds.load_movielens100k(tmp_path)


# ------------------------------------------------------------------------------- images


def test_images_scales_and_shapes():
    cam = ds.image("camera")
    assert cam.shape == (512, 512) and cam.dtype == np.float64
    assert 0 <= cam.min() < 0.1 and 0.9 < cam.max() <= 1
    raw = ds.image("camera", scale="none")
    assert np.allclose(raw / 255, cam)
    rms = ds.image("camera", scale="rms", shape=(64, 48))
    assert rms.shape == (64, 48) and np.sqrt(np.mean(rms**2)) == pytest.approx(1.0)
    faces = ds.image("faces")
    assert faces.shape == (200, 625) and faces.min() >= 0 and faces.max() <= 1
    with pytest.raises(ConfigError, match="shape applies to photographs"):
        ds.image("faces", shape=(10, 10))
    with pytest.raises(ConfigError, match="name must be one of"):
        ds.image("astronot")


def test_image_completion_observed_fraction_and_blocks():
    p = ds.image_completion("camera", fraction=0.3, shape=(64, 64), seed=1)
    assert p.n_obs == round(0.3 * 64 * 64)
    assert np.array_equal(p.observed[p.mask], p.truth[p.mask])
    assert p.evaluate(p.truth)["test_error"] == pytest.approx(0, abs=1e-6)
    q = ds.image_completion("camera", fraction=0.7, pattern="blocks", block=8, shape=(64, 60))
    frac = q.mask.mean()
    assert abs(frac - 0.7) <= 8 * 8 / (2 * 64 * 60) + 1e-12
    # every missing entry lies in a fully missing 8 × 8 tile (the last column of tiles is 8 × 4)
    for i in range(0, 64, 8):
        for j in range(0, 60, 8):
            tile = q.mask[i : i + 8, j : j + 8]
            assert tile.all() or not tile.any()
    assert not q.mask.all()
    faces = ds.image_completion("faces", fraction=0.5, seed=0)
    assert faces.shape == (200, 625) and faces.n_obs == 62_500


def test_psnr_closed_form():
    truth = np.linspace(0, 2, 20).reshape(4, 5)
    est = truth + 0.1
    assert ds.psnr(truth, est) == pytest.approx(10 * np.log10(2.0**2 / 0.01))
    assert ds.psnr(truth, est, data_range=1.0) == pytest.approx(20.0)
    assert ds.psnr(truth, truth) == np.inf
    mask = np.zeros((4, 5), dtype=bool)
    mask[0, 0] = True
    est2 = truth.copy()
    est2[0, 0] += 0.5
    est2[1, 1] += 1.0
    assert ds.psnr(truth, est2, mask=mask) == pytest.approx(10 * np.log10(4 / 0.25))
    assert ds.psnr(truth, est2) == pytest.approx(10 * np.log10(4 / (1.25 / 20)))


def test_completion_figure(tmp_path):
    p = ds.image_completion("camera", fraction=0.5, shape=(32, 32), seed=0)
    fig = ds.completion_figure(
        p.truth, p.mask, {"zeros": p.observed, "truth": p.truth}, path=tmp_path / "f.png"
    )
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["truth", "observed (50%)"]
    assert titles[3].startswith("truth\nPSNR inf dB")
    assert (tmp_path / "f.png").stat().st_size > 1000
    with pytest.raises(ConfigError, match="completion 'bad' has shape"):
        ds.completion_figure(p.truth, p.mask, {"bad": np.zeros((3, 3))})
