"""Networks pipeline: data split, models, training, pruning round-trip, reports."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg.networks as nw
import algoreg.regularizers as rg
from algoreg.errors import ConfigError


@pytest.fixture(scope="module")
def data():
    return nw.digits(seed=0)


@pytest.fixture(scope="module")
def trained(data):
    p = nw.init_mlp([64, 16, 10], seed=0)
    p, losses = nw.train(nw.apply_mlp, p, data.x_train, data.y_train, epochs=4, lr=1e-2)
    return p, losses


def test_digits_split(data):
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (1077, 360, 360)
    assert data.n_features == 64 and data.n_classes == 10
    assert set(np.unique(data.y_val)) == set(range(10))  # stratified
    np.testing.assert_allclose(data.x_train.mean(0), 0.0, atol=1e-5)
    again = nw.digits(seed=0)
    np.testing.assert_array_equal(again.x_test, data.x_test)
    assert nw.digits(images=True).x_train.shape == (1077, 1, 8, 8)


def test_models_shapes_and_regularizers():
    p = nw.init_mlp([64, 32, 10], seed=0)
    assert [layer["w"].shape for layer in p] == [(32, 64), (10, 32)]
    assert nw.apply_mlp(p, jnp.zeros((5, 64))).shape == (5, 10)
    c = nw.init_convnet(seed=0)
    assert c["conv"][0]["w"].shape == (8, 1, 3, 3) and c["conv"][1]["w"].shape == (16, 8, 3, 3)
    assert nw.apply_convnet(c, jnp.zeros((2, 1, 8, 8))).shape == (2, 10)
    # every regularizer applies to the CNN's kernels (OIHW → (out, in·9))
    for name in ("group_hoyer_square", "ratio", "hoyer_square"):
        reg = rg.get(name, group="channels") if "group" in name else rg.get(name)
        v, g = jax.jit(jax.value_and_grad(reg))(c)
        assert np.isfinite(float(v)) and g["conv"][1]["w"].shape == (16, 8, 3, 3)
    with pytest.raises(ConfigError, match=r"\['conv'\]\[0\]\['b'\]"):
        rg.get("group_lasso", select="conv")(c)


def test_training_learns(data, trained):
    p, losses = trained
    assert losses.shape == (4,) and losses[-1] < 0.5 * losses[0]
    assert nw.accuracy(nw.apply_mlp, p, data.x_val, data.y_val) > 0.85
    with pytest.raises(ConfigError, match="optimizer"):
        nw.train(nw.apply_mlp, p, data.x_train, data.y_train, optimizer="adamw")
    with pytest.raises(ConfigError, match="matches no parameter"):
        nw.train(nw.apply_mlp, p, data.x_train, data.y_train, reg=rg.get("l1", select="xyz"))


def test_prune_masks(trained):
    p, _ = trained
    q, mask = nw.prune(p, sensitivity=0.5)
    assert jax.tree.structure(mask) == jax.tree.structure(p)
    for layer, m, orig in zip(q, mask, p, strict=True):
        w = np.asarray(orig["w"])
        keep = np.abs(w) > 0.5 * w.std()
        np.testing.assert_array_equal(np.asarray(m["w"]), keep)  # mask size per layer
        assert np.all(np.asarray(m["b"]) == 1)  # biases are not selected by "weights"
        np.testing.assert_array_equal(np.asarray(layer["w"]), np.where(keep, w, 0.0))
    _, m2 = nw.prune(p, threshold=0.05, select="all")
    assert np.asarray(m2[0]["b"]).sum() <= m2[0]["b"].size
    assert int(np.asarray(m2[0]["w"]).sum()) == int(np.sum(np.abs(np.asarray(p[0]["w"])) > 0.05))
    with pytest.raises(ConfigError, match="exactly one"):
        nw.prune(p)
    with pytest.raises(ConfigError, match="exactly one"):
        nw.prune(p, sensitivity=1.0, threshold=0.1)


def test_pruning_round_trip(data, trained):
    """Masked fine-tuning keeps pruned weights at exactly 0 and trains the others."""
    p, _ = trained
    q, mask = nw.prune(p, sensitivity=1.0)
    r, _ = nw.train(nw.apply_mlp, q, data.x_train, data.y_train, epochs=4, lr=1e-2, mask=mask)
    for layer, m, before in zip(r, mask, q, strict=True):
        w, keep = np.asarray(layer["w"]), np.asarray(m["w"]).astype(bool)
        assert np.all(w[~keep] == 0.0)
        assert np.any(w[keep] != np.asarray(before["w"])[keep])
    rep = nw.layer_report(r)
    assert rep[-1]["nnz"] == sum(int(np.asarray(m["w"]).sum()) for m in mask)
    assert rep[-1]["compression"] == pytest.approx(rep[-1]["size"] / rep[-1]["nnz"])


def test_layer_report_and_truncation():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((12, 2)) @ rng.standard_normal((2, 9))
    tree = [{"w": jnp.asarray(A, jnp.float32), "b": jnp.zeros(12)}, {"w": jnp.eye(5)}]
    rep = nw.layer_report(tree)
    assert rep[0]["rank"] == 2 and rep[0]["lowrank_size"] == 2 * (12 + 9)
    assert rep[1]["rank"] == 5 and rep[1]["effective_rank"] == pytest.approx(5.0)
    assert rep[1]["ratio"] == pytest.approx(np.sqrt(5))
    assert rep[-1]["size"] == 108 + 25 and rep[-1]["nnz"] == np.count_nonzero(A) + 5
    B = A + 1e-4 * rng.standard_normal(A.shape)
    t, ranks = nw.truncate_rank([{"w": jnp.asarray(B)}], tol=1e-2)
    assert ranks == {"[0]['w']": 2}
    np.testing.assert_allclose(np.asarray(t[0]["w"]), A, atol=1e-3)
    K = jnp.asarray(rng.standard_normal((4, 3, 2, 2)))
    _, kr = nw.truncate_rank({"k": K}, tol=0.0)
    assert kr == {"['k']": 4}
    assert "| layer |" in nw.markdown_table(rep)


def test_sparsify_pipeline(data):
    p = nw.init_mlp([64, 16, 10], seed=1)
    res = nw.sparsify(
        nw.apply_mlp,
        p,
        data,
        reg=rg.get("hoyer_square", lam=1e-4),
        dense_epochs=4,
        reg_epochs=4,
        finetune_epochs=4,
        lr=1e-2,
        sensitivity=0.5,
    )
    for key in ("dense_val_acc", "reg_val_acc", "pruned_val_acc", "val_acc", "test_acc"):
        assert 0.0 <= res[key] <= 1.0
    mask_nnz = sum(int(np.asarray(m["w"]).sum()) for m in res["mask"])
    assert res["report"][-1]["nnz"] == mask_nnz < res["report"][-1]["size"]
