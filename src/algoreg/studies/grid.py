"""Grid expansion and trial identity.

A trial is one canonical config (see :mod:`.resolve`) including its replicate ``seed``; its
``trial_id`` is a hash of the config's canonical JSON, so re-running a study finds the trials it
already has. Seeds: a replicate seed s fixes the problem (truth, sampling, noise: the children
0–2 of ``SeedSequence(s)``) and the initialization (child 3), so methods compared at the same s
see the same data and the same random draws — a paired design.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Study
from .resolve import resolve_config


@dataclass(frozen=True)
class Trial:
    trial_id: str
    config: dict[str, Any]

    @property
    def seed(self) -> int:
        return self.config["seed"]


def canonical_json(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


def trial_id(config: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def init_seed(seed: int) -> int:
    """Initialization seed of replicate ``seed``: child 3 of SeedSequence(seed)."""
    return int(np.random.SeedSequence(seed).spawn(4)[3].generate_state(1)[0])


def points(study: Study) -> Iterator[dict[str, Any]]:
    """Raw (unresolved) configs of every grid point × seed, in a deterministic order."""
    for combo in itertools.product(*(axis.values for axis in study.axes)):
        point = copy.deepcopy(study.base)
        for axis, values in zip(study.axes, combo, strict=True):
            for key, value in zip(axis.keys, values, strict=True):
                section, _, name = key.partition(".")
                if name:
                    point[section][name] = value
                else:  # a whole table replaces the section
                    point[section] = dict(value)
        for seed in study.seeds:
            yield {**copy.deepcopy(point), "seed": seed}


def expand(study: Study) -> list[Trial]:
    """All trials of a study (duplicates — grid points resolving alike — appear once)."""
    trials: dict[str, Trial] = {}
    for point in points(study):
        config = resolve_config(point, source=study.source, text=study.text)
        tid = trial_id(config)
        trials.setdefault(tid, Trial(tid, config))
    return list(trials.values())


def batch_key(config: dict[str, Any]) -> str:
    """Trials with equal keys can share one batched engine program."""
    if config["model"]["kind"] != "factorization":
        return canonical_json({"baseline": config["model"]["kind"], "id": trial_id(config)})
    problem = config["problem"]
    penalty = {k: v for k, v in config["penalty"].items() if k != "lam"}
    return canonical_json(
        {
            "problem": [problem["kind"], problem["shape"]],
            "model": config["model"],
            "penalty": penalty,
            "optimizer": {k: v for k, v in config["optimizer"].items() if not isinstance(v, float)},
            "train": [
                config["train"][k] for k in ("log_every", "dtype", "diverge_above", "log_flow")
            ],
        }
    )


def estimated_cost(config: dict[str, Any]) -> float:
    """Rough FLOPs of a trial run to ``max_steps``: only to start the longest trials first.

    Factorization step: 3·Σ 2·rows·w·n matmul FLOPs (m·n at depth 1), plus 4·n_obs·m·n for a
    sensing operator's two passes and the penalty's polar factor (SVD ≈ 30k²l, subspace
    6klr); a convex baseline counts as 10⁴ SVDs of its matrix.
    """
    m, n = config["problem"].get("shape") or (1000, 1000)
    k, l_ = sorted((m, n))
    svd = 30.0 * k * k * l_
    model = config["model"]
    if model["kind"] != "factorization":
        return 1e4 * svd
    depth, w = model["depth"], model.get("width") or max(m, n)
    step = float(m * n) if depth == 1 else 6.0 * n * w * (w * (depth - 2) + m)
    if config["problem"]["kind"] == "sensing":
        step += 4.0 * config["problem"].get("n_obs", m * n) * m * n
    penalty = config.get("penalty") or {}
    if penalty.get("kind", "none") != "none" and penalty.get("lam", 0) > 0:
        method = penalty.get("method", "svd")
        step += 6.0 * k * l_ * penalty.get("rank", 16) if method == "subspace" else svd
    return step * config["train"]["max_steps"]


def make_batches(trials: list[Trial], batch_size: int) -> list[list[Trial]]:
    """Group compatible trials into batches of at most ``batch_size`` (order kept)."""
    groups: dict[str, list[Trial]] = {}
    for t in trials:
        groups.setdefault(batch_key(t.config), []).append(t)
    batches = []
    for group in groups.values():
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    return batches
