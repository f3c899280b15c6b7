"""Small networks as plain pytrees (PyTorch/Equinox layout: dense (out, in), conv OIHW).

Each model is a pair of pure functions: ``init_*(…, seed) -> params`` and
``apply_*(params, x) -> outputs``; parameters are lists/dicts of arrays named ``"w"`` (weights)
and ``"b"`` (biases), so every :mod:`algoreg.regularizers` regularizer applies directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConfigError


def init_mlp(sizes: Sequence[int], seed: int = 0, bias: bool = True) -> list[dict]:
    """Dense layers sizes[0] → … → sizes[-1], He-normal weights (out, in), zero biases."""
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ConfigError(f"sizes must be >= 2 positive integers, got {sizes!r}")
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        layer = {"w": jnp.asarray(rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in))}
        if bias:
            layer["b"] = jnp.zeros(n_out)
        layers.append(jax.tree.map(lambda a: a.astype(jnp.float32), layer))
    return layers


def apply_mlp(params: list[dict], x: jax.Array) -> jax.Array:
    """ReLU MLP: h ← relu(h Wᵀ + b) on hidden layers, linear output (logits)."""
    for i, layer in enumerate(params):
        x = x @ layer["w"].T + layer.get("b", 0.0)
        if i < len(params) - 1:
            x = jax.nn.relu(x)
    return x


def apply_linear(params: list[dict], x: jax.Array) -> jax.Array:
    """Deep linear network x ↦ x (W_L ⋯ W_1)ᵀ (no biases, no activation)."""
    for layer in params:
        x = x @ layer["w"].T
    return x


def init_linear(sizes: Sequence[int], seed: int = 0, scale: float = 1.0) -> list[dict]:
    """Factors W_j (sizes[j+1], sizes[j]) with i.i.d. N(0, scale²/sizes[j]) entries."""
    rng = np.random.default_rng(seed)
    return [
        {"w": jnp.asarray(rng.standard_normal((o, i)) * scale / np.sqrt(i), dtype=jnp.float32)}
        for i, o in itertools.pairwise(sizes)
    ]


def init_convnet(channels: Sequence[int] = (8, 16), n_classes: int = 10, seed: int = 0) -> dict:
    """Tiny CNN for 1×8×8 images: 3×3 convs (OIHW; the second has stride 2) and a dense head."""
    rng = np.random.default_rng(seed)
    convs, c_in = [], 1
    for c in channels:
        w = rng.standard_normal((c, c_in, 3, 3)) * np.sqrt(2.0 / (9 * c_in))
        convs.append({"w": jnp.asarray(w, jnp.float32), "b": jnp.zeros(c, jnp.float32)})
        c_in = c
    side = 8 // 2 ** (len(channels) - 1)
    n_in = c_in * side * side
    head = {
        "w": jnp.asarray(rng.standard_normal((n_classes, n_in)) * np.sqrt(1.0 / n_in), jnp.float32),
        "b": jnp.zeros(n_classes, jnp.float32),
    }
    return {"conv": convs, "head": head}


def apply_convnet(params: dict, x: jax.Array) -> jax.Array:
    """x (n, 1, 8, 8) NCHW → logits; conv i > 0 has stride 2, SAME padding, ReLU."""
    for i, layer in enumerate(params["conv"]):
        stride = (1, 1) if i == 0 else (2, 2)
        x = jax.lax.conv_general_dilated(
            x, layer["w"], stride, "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        x = jax.nn.relu(x + layer["b"][None, :, None, None])
    x = x.reshape(x.shape[0], -1)
    return x @ params["head"]["w"].T + params["head"]["b"]
