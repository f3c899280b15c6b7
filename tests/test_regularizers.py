"""Regularizers on parameter pytrees (and torch modules): closed forms, invariances, gradients.

Gradient checks run in float64 at random (full-rank, all-nonzero) points, where every
regularizer is differentiable: closed form == jax.grad == central finite differences.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import algoreg.regularizers as rg
from algoreg import penalties
from algoreg.errors import ConfigError

ALL = sorted(rg.REGULARIZERS)
PER_TENSOR = [n for n in ALL if n != "end_to_end"]
SCALE_INVARIANT = ["hoyer", "hoyer_square", "group_hoyer_square", "ratio", "ratio_square"]


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def params(seed=0):
    """A small MLP (out, in) + a conv kernel (OIHW) + biases, as a pytree."""
    rng = np.random.default_rng(seed)
    return {
        "conv": {"w": rng.standard_normal((4, 3, 3, 3)), "b": rng.standard_normal(4)},
        "mlp": [
            {"w": rng.standard_normal((6, 5)), "b": rng.standard_normal(6)},
            {"w": rng.standard_normal((3, 6)), "b": rng.standard_normal(3)},
        ],
    }


def as_jax(tree):
    return jax.tree.map(jnp.asarray, tree)


def make(name, **kw):
    if name == "end_to_end":
        kw.setdefault("select", r"\['mlp'\].*\['w'\]")
    return rg.get(name, lam=0.7, **kw)


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


GRAD_CASES = [(n, "out_in") for n in ALL] + [
    (n, "in_out") for n in ("group_hoyer_square", "ratio_square", "end_to_end")
]


@pytest.mark.parametrize("name,layout", GRAD_CASES)
def test_gradient_matches_autodiff_and_finite_differences(name, layout):
    p = as_jax(params())
    if layout == "in_out":  # the same layers stored Flax-style: (in, out) and HWIO
        p = jax.tree.map(lambda w: w.T if w.ndim == 2 else w, p)
        p["conv"]["w"] = jnp.transpose(params()["conv"]["w"], (2, 3, 1, 0))
    reg = make(name, layout=layout)
    closed, auto = reg.grad(p), jax.grad(reg)(p)
    for g, a in zip(leaves(closed), leaves(auto), strict=True):
        np.testing.assert_allclose(g, a, rtol=1e-9, atol=1e-12)
    rng = np.random.default_rng(1)
    E = jax.tree.map(lambda x: jnp.asarray(rng.standard_normal(x.shape)), p)
    h, f = 1e-6, reg
    fd = (
        float(f(jax.tree.map(lambda x, e: x + h * e, p, E)))
        - float(f(jax.tree.map(lambda x, e: x - h * e, p, E)))
    ) / (2 * h)
    inner = sum(
        float(jnp.sum(g * e))
        for g, e in zip(jax.tree.leaves(closed), jax.tree.leaves(E), strict=True)
    )
    assert fd == pytest.approx(inner, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", PER_TENSOR)
def test_layouts_agree(name):
    """out_in (PyTorch/Equinox) and in_out (Flax) storage of the same layers: same value."""
    p = params()
    q = {
        "conv": {"w": np.transpose(p["conv"]["w"], (2, 3, 1, 0)), "b": p["conv"]["b"]},
        "mlp": [{"w": d["w"].T, "b": d["b"]} for d in p["mlp"]],
    }
    a = float(make(name)(as_jax(p)))
    b = float(make(name, layout="in_out")(as_jax(q)))
    assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("name", SCALE_INVARIANT)
def test_scale_invariance_and_euler(name):
    p = as_jax(params())
    reg = make(name)
    f = reg
    for c in (1e-3, 0.5, 7.0):
        scaled = jax.tree.map(lambda x, c=c: c * x, p)
        assert float(f(scaled)) == pytest.approx(float(f(p)))
    # degree 0 ⇒ ⟨∇R(w), w⟩ = 0 for each tensor
    g = reg.grad(p)
    for gl, wl in zip(leaves(g), leaves(p), strict=True):
        assert abs(float(np.sum(gl * wl))) < 1e-10


@pytest.mark.parametrize("name,degree", [("l1", 1), ("group_lasso", 1), ("nuclear", 1)])
def test_homogeneous_degree_one(name, degree):
    p = as_jax(params())
    reg = make(name)
    assert reg.degree == degree
    assert float(reg(jax.tree.map(lambda x: 3.0 * x, p))) == pytest.approx(3.0 * float(reg(p)))


def test_hoyer_square_closed_forms():
    N = 12
    hs, h = rg.get("hoyer_square", select="all"), rg.get("hoyer", select="all")
    one_sparse = jnp.zeros(N).at[4].set(-3.0)
    const = jnp.full(N, 0.25)
    assert float(hs(one_sparse)) == pytest.approx(1.0)
    assert float(hs(const)) == pytest.approx(N)
    assert float(h(one_sparse)) == pytest.approx(1.0)
    assert float(h(const)) == pytest.approx(np.sqrt(N))
    w = jnp.asarray(np.random.default_rng(3).standard_normal(N))
    assert float(jnp.dot(hs.grad(w), w)) == pytest.approx(0.0, abs=1e-12)
    assert 1.0 <= float(hs(w)) <= N


def test_group_hoyer_and_spectral_closed_forms():
    # rows as groups: two nonzero rows of equal norm ⇒ (2a)²/(2a²) = 2
    W = jnp.zeros((5, 4)).at[0].set(1.0).at[3].set(jnp.array([2.0, 0.0, 0.0, 0.0]))
    assert float(rg.get("group_hoyer_square", group="rows")(W)) == pytest.approx(2.0)
    assert float(rg.get("group_lasso", group="rows")(W)) == pytest.approx(4.0)
    assert float(rg.get("group_lasso", group="cols")(W)) == pytest.approx(np.sqrt(5) + 3.0)
    # conv channels (OIHW): only input channel 1 nonzero ⇒ group-H_S = 1
    K = jnp.zeros((4, 3, 2, 2)).at[:, 1].set(1.0)
    assert float(rg.get("group_hoyer_square", group="channels")(K)) == pytest.approx(1.0)
    assert float(rg.get("group_hoyer_square", group="filters")(K)) == pytest.approx(4.0)
    # spectral ratio: rank-r with equal singular values ⇒ √r; matrix of an OIHW kernel
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 6)))
    M = Q[:, :3] @ Q[:3, :] * 2.0  # three equal singular values (=2)
    assert float(rg.get("ratio")(jnp.asarray(M))) == pytest.approx(np.sqrt(3))
    assert float(rg.get("ratio_square")(jnp.asarray(M))) == pytest.approx(3.0)
    assert float(rg.get("nuclear")(jnp.asarray(M))) == pytest.approx(6.0)
    K = np.random.default_rng(1).standard_normal((4, 3, 2, 2))
    s = np.linalg.svd(K.reshape(4, 12), compute_uv=False)
    assert float(rg.get("ratio")(jnp.asarray(K))) == pytest.approx(s.sum() / np.sqrt((s**2).sum()))


@pytest.mark.parametrize("kind", ["ratio", "nuclear"])
def test_spectral_kinds_are_the_matrix_penalties(kind):
    """One formula: on a single matrix the pytree regularizer's value, autodiff and closed-form
    gradients are the matrix penalty's raw ones — generic, rank-deficient and zero matrices."""
    rng = np.random.default_rng(4)
    pen, reg = penalties.get(kind), rg.get(kind)
    low_rank = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
    for M in map(jnp.asarray, (rng.standard_normal((6, 5)), low_rank, np.zeros((6, 5)))):
        assert float(reg(M)) == float(pen.raw(M))
        auto, closed = jax.grad(reg)(M), reg.grad(M)
        np.testing.assert_array_equal(auto, jax.grad(pen.raw)(M))
        np.testing.assert_array_equal(closed, pen.raw_grad(M))
        assert np.all(np.isfinite(auto)) and np.all(np.isfinite(closed))
        if kind == "ratio":
            assert float(rg.get("ratio_square")(M)) == float(pen.raw(M)) ** 2


@pytest.mark.parametrize("name", ALL)
def test_safe_at_zero(name):
    p = jax.tree.map(jnp.zeros_like, as_jax(params()))
    reg = make(name, select="all") if name in ("l1", "hoyer", "hoyer_square") else make(name)
    value, auto = jax.value_and_grad(reg)(p)  # eager: primitives compiled once, shared
    assert float(value) == 0.0
    for g in leaves(auto) + leaves(reg.grad(p)):
        assert np.all(np.isfinite(g))
    if name != "nuclear":  # ‖·‖_* has a nonzero subgradient UVᵀ at 0; the others give 0
        for g in leaves(auto):
            assert np.all(g == 0)


def test_selection_and_sum():
    p = as_jax(params())
    hs = rg.HoyerSquare(lam=1.0)
    names = [n for n, _ in hs.selected(p)]
    assert names == ["['conv']['w']", "['mlp'][0]['w']", "['mlp'][1]['w']"]
    total = sum(float(rg.HoyerSquare(select="all")(w)) for _, w in hs.selected(p))
    assert float(hs(p)) == pytest.approx(total)
    assert len(rg.get("l1", select="all").selected(p)) == 6
    assert [n for n, _ in rg.get("l1", select=r"\['b'\]").selected(p)] == [
        "['conv']['b']",
        "['mlp'][0]['b']",
        "['mlp'][1]['b']",
    ]
    only = rg.get("l1", select=lambda name, w: w.shape == (3, 6))
    assert float(only(p)) == pytest.approx(float(np.abs(params()["mlp"][1]["w"]).sum()))
    # unselected leaves get zero gradient
    g = rg.get("ratio", select=r"mlp.*\['w'\]").grad(p)
    assert np.all(np.asarray(g["conv"]["w"]) == 0)
    # non-array leaves (an activation function, an int) are ignored
    assert float(hs({"act": jax.nn.relu, "n": 3, "w": p["mlp"][0]["w"]})) > 1


def test_errors_name_the_parameter():
    p = as_jax(params())
    with pytest.raises(ConfigError, match="matches no parameter"):
        rg.get("hoyer_square", select="nothing_like_this")(p)
    with pytest.raises(ConfigError, match=r"\['conv'\]\['b'\].*shape \(4,\)"):
        rg.get("ratio", select="all")(p)
    with pytest.raises(ConfigError, match=r"group_hoyer_square.*'b'"):
        rg.get("group_hoyer_square", select=r"\['b'\]")(p)
    with pytest.raises(ConfigError, match=r"unknown regularizer 'hoyer_sqare'.*hoyer_square"):
        rg.get("hoyer_sqare")
    with pytest.raises(ConfigError, match="lam"):
        rg.get("l1", lam=-1.0)
    with pytest.raises(ConfigError, match="layout"):
        rg.get("l1", layout="NHWC")
    with pytest.raises(ConfigError, match="group"):
        rg.get("group_lasso", group="diagonal")
    with pytest.raises(ConfigError, match="regular expression"):
        rg.get("l1", select="(")
    with pytest.raises(ConfigError, match=r"\['conv'\]\['w'\].*shape \(4, 3, 3, 3\)"):
        rg.get("end_to_end")(p)
    with pytest.raises(ConfigError, match="do not chain"):
        rg.get("end_to_end", select=r"\['w'\]")(
            {"a": {"w": jnp.ones((3, 2))}, "b": {"w": jnp.ones((4, 5))}}
        )


def test_end_to_end_is_penalty_of_product():
    rng = np.random.default_rng(0)
    Ws = [jnp.asarray(rng.standard_normal(s)) for s in [(6, 4), (5, 6), (3, 5)]]
    W = Ws[2] @ Ws[1] @ Ws[0]
    for kind in ("ratio", "ratio_square", "nuclear"):
        e2e = rg.get("end_to_end", kind=kind, lam=2.0)
        assert float(e2e(Ws)) == pytest.approx(2.0 * float(rg.get(kind)(W)))
        np.testing.assert_allclose(e2e.product(Ws), W, rtol=1e-12)
        closed, auto = e2e.grad(Ws), jax.grad(e2e)(Ws)
        for g, a in zip(leaves(closed), leaves(auto), strict=True):
            np.testing.assert_allclose(g, a, rtol=1e-9, atol=1e-12)
    # Flax storage (in, out) of the same stack
    e2e = rg.get("end_to_end", layout="in_out")
    assert float(e2e([w.T for w in Ws])) == pytest.approx(float(rg.get("ratio")(W)))


def test_usable_in_jit_and_training_step():
    p = as_jax(params())
    reg = rg.get("ratio_square", lam=0.1)
    f = jax.jit(jax.value_and_grad(reg))
    v, g = f(p)
    assert float(v) == pytest.approx(float(reg(p)))
    assert jax.tree.structure(g) == jax.tree.structure(p)


# ---------------------------------------------------------------------------- torch adapter


@pytest.fixture
def torch():
    t = pytest.importorskip("torch")
    t.set_num_threads(1)
    return t


def torch_model(torch, p):
    """A torch module holding the same numbers as ``params()`` (PyTorch layouts = out_in)."""
    m = torch.nn.Module()
    m.conv = torch.nn.Conv2d(3, 4, 3)
    m.fc1, m.fc2 = torch.nn.Linear(5, 6), torch.nn.Linear(6, 3)
    m = m.double()
    with torch.no_grad():
        m.conv.weight.copy_(torch.from_numpy(p["conv"]["w"]))
        m.conv.bias.copy_(torch.from_numpy(p["conv"]["b"]))
        for lin, d in zip((m.fc1, m.fc2), p["mlp"], strict=True):
            lin.weight.copy_(torch.from_numpy(d["w"]))
            lin.bias.copy_(torch.from_numpy(d["b"]))
    return m


@pytest.mark.parametrize("name", ALL)
def test_torch_matches_jax(torch, name):
    from algoreg.regularizers import torch as rgt

    p = params()
    model = torch_model(torch, p)
    kw = {"select": r"fc\d\.weight"} if name == "end_to_end" else {}
    jkw = {"select": r"\['mlp'\].*\['w'\]"} if name == "end_to_end" else {}
    treg = rgt.get(name, lam=0.7, **kw)
    jreg = rg.get(name, lam=0.7, **jkw)
    jp = as_jax(p)
    # torch names: conv.weight, conv.bias, fc1.weight, ...; the JAX tree has the same layers
    v = treg(model)
    assert float(v.detach()) == pytest.approx(float(jreg(jp)), rel=1e-10)
    v.backward()
    jg = jreg.grad(jp)
    pairs = [
        (model.conv.weight, jg["conv"]["w"]),
        (model.fc1.weight, jg["mlp"][0]["w"]),
        (model.fc2.weight, jg["mlp"][1]["w"]),
    ]
    for tp, g in pairs:
        tg = np.zeros(tp.shape) if tp.grad is None else tp.grad.numpy()
        np.testing.assert_allclose(tg, np.asarray(g), rtol=1e-8, atol=1e-12)


def test_torch_selection_errors_and_zero(torch):
    from algoreg.regularizers import torch as rgt

    model = torch_model(torch, params())
    assert [n for n, _ in rgt.get("l1", select="all").selected(model)] == [
        "conv.weight",
        "conv.bias",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    ]
    assert len(rgt.get("hoyer", select=r"\.bias$").selected(model)) == 3
    with pytest.raises(ConfigError, match="matches no parameter"):
        rgt.get("hoyer_square", select="attention")(model)
    with pytest.raises(ConfigError, match=r"conv\.bias.*shape \(4,\)"):
        rgt.get("ratio", select="all")(model)
    with torch.no_grad():
        for q in model.parameters():
            q.zero_()
    for name in ("hoyer", "hoyer_square", "group_hoyer_square", "ratio", "ratio_square"):
        model.zero_grad()
        v = rgt.get(name)(model)
        assert float(v.detach()) == 0.0
        v.backward()
        assert all(torch.isfinite(q.grad).all() for q in model.parameters() if q.grad is not None)


def test_torch_adapter_without_torch_names_the_extra(monkeypatch):
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    monkeypatch.delitem(sys.modules, "algoreg.regularizers.torch", raising=False)
    with pytest.raises(ImportError, match=r"pip install algoreg\[torch\]"):
        importlib.import_module("algoreg.regularizers.torch")
