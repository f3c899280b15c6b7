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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dotted import dotted_items
from ..errors import did_you_mean
from .config import MAX_TRIALS, Study, StudyError
from .resolve import is_trained, resolve_config


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
    """First 16 hex digits of the SHA-256 of the canonical config. A problem that names its
    data by content (``data_sha256``) is identified without its ``path``: the folder differs
    from machine to machine, the trial does not."""
    problem = config.get("problem") or {}
    if "data_sha256" in problem:
        config = {**config, "problem": {k: v for k, v in problem.items() if k != "path"}}
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def init_seed(seed: int) -> int:
    """Initialization seed of replicate ``seed``: child 3 of SeedSequence(seed)."""
    return int(np.random.SeedSequence(seed).spawn(4)[3].generate_state(1)[0])


def _assign(point: dict[str, Any], key: str, value: Any) -> None:
    section, _, name = key.partition(".")
    if name:
        point[section][name] = value
    else:  # a whole table replaces the section
        point[section] = dict(value)


def points(study: Study, used: list[bool] | None = None) -> Iterator[dict[str, Any]]:
    """Raw (unresolved) configs of every grid point × seed, in a deterministic order, with the
    study's ``[[where]]`` rules applied; ``used[i]`` is set when rule i matched a point."""
    text = study.text
    for combo in itertools.product(*(axis.values for axis in study.axes)):
        point = copy.deepcopy(study.base)
        for axis, values in zip(study.axes, combo, strict=True):
            for key, value in zip(axis.keys, values, strict=True):
                _assign(point, key, value)
        resolved = None
        for i, rule in enumerate(study.rules):
            if resolved is None:  # once, and again only after a rule changed the point
                resolved = resolve_config({**point, "seed": 0}, source=study.source, text=text)
            if rule.matches(resolved):
                for key, value in rule.set:
                    _assign(point, key, value)
                resolved = None
                if used is not None:
                    used[i] = True
        for seed in study.seeds:
            yield {**copy.deepcopy(point), "seed": seed}


def check_size(study: Study, max_trials: int | None = MAX_TRIALS) -> int:
    """The number of grid points × seeds, counted without resolving any; a
    :class:`StudyError` naming the size, its factors and the override when it exceeds
    ``max_trials`` (None: no limit)."""
    n = study.size()
    if max_trials is not None and n > max_trials:
        factors = [f"{len(study.seeds)} seeds"]
        factors += [f"{len(a.values)} values of {'+'.join(a.keys)}" for a in study.axes]
        raise StudyError(
            f"{study.source}: the study has {n:,} trials ({' × '.join(factors)}), more than "
            f"the limit of {max_trials:,}; check the grid, run a part of it with --only "
            f"KEY=VALUE, or raise the limit with --max-trials {n}"
        )
    return n


def expand(study: Study, *, max_trials: int | None = MAX_TRIALS) -> list[Trial]:
    """All trials of a study (duplicates — grid points resolving alike — appear once); a
    grid larger than ``max_trials`` is refused before any is resolved (:func:`check_size`)."""
    check_size(study, max_trials)
    trials: dict[str, Trial] = {}
    for point in points(study):
        config = resolve_config(point, source=study.source, text=study.text)
        tid = trial_id(config)
        trials.setdefault(tid, Trial(tid, config))
    return list(trials.values())


def _among(value: Any, wanted: list[Any]) -> bool:
    """``value in wanted`` without Python's True == 1 (``--only model.depth=true`` is no
    depth)."""
    return any(value == w and isinstance(value, bool) == isinstance(w, bool) for w in wanted)


def select(trials: list[Trial], only: Sequence[tuple[str, Any]]) -> list[Trial]:
    """The trials whose config matches every ``(key, value)`` of ``only`` (``run --only``):
    the value at the dotted ``key`` (``problem.n_obs``, ``model.depth``, ``seed``) equals
    ``value`` or, when ``value`` is a list, one of its items (a list-valued field such as
    ``problem.shape`` is then matched by a list of lists). A key no trial has, or a selection
    that leaves no trial, is a :class:`StudyError` naming what the study has."""
    flat = [dict(dotted_items(t.config)) for t in trials]
    chosen: list[int] = list(range(len(trials)))
    for key, value in only:
        wanted = value if isinstance(value, list) else [value]
        present = list(dict.fromkeys(json.dumps(f[key]) for f in flat if key in f))  # grid order
        if not present:
            keys = sorted({k for f in flat for k in f})
            raise StudyError(
                f"--only {key}: no trial of this study has this key{did_you_mean(key, keys)} "
                f"(keys: {', '.join(keys)})"
            )
        chosen = [i for i in chosen if key in flat[i] and _among(flat[i][key], wanted)]
        if not chosen:
            asked = " ".join(f"--only {k}={json.dumps(v)}" for k, v in only)
            raise StudyError(
                f"{asked}: matches none of the study's {len(trials)} trials "
                f"({key} takes the values {', '.join(present)})"
            )
    return [trials[i] for i in chosen]


def batch_key(config: dict[str, Any]) -> str:
    """Trials with equal keys can share one batched engine program."""
    if not is_trained(config):
        return canonical_json({"baseline": config["model"]["kind"], "id": trial_id(config)})
    from ..problems import batch_fields

    problem = config["problem"]
    penalty = {k: v for k, v in config["penalty"].items() if k != "lam"}
    fields = [problem.get(k) for k in batch_fields(problem)]
    return canonical_json(
        {
            "problem": [problem["kind"], problem["shape"], *fields],
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

    A trained model's step counts its ``step_flops`` (m·n where it has no matmul) and
    :func:`~algoreg.benchmark.penalty_flops` for the penalty's polar factor, plus 4·n_obs·m·n
    for a sensing operator's two passes; a convex baseline counts as 10⁴ SVDs of its matrix.
    """
    from ..benchmark import penalty_flops
    from ..models import get

    problem = config.get("problem") or {}  # a trial kind may read no problem
    shape = tuple(problem.get("shape") or (1000, 1000))
    m, n = shape
    if not is_trained(config):
        return 1e4 * penalty_flops("svd", shape)
    step = get(**config["model"]).step_flops(shape) or float(m * n)
    if problem["kind"] == "sensing":
        step += 4.0 * problem.get("n_obs", m * n) * m * n
    penalty = config.get("penalty") or {}
    if penalty.get("kind", "none") != "none" and penalty.get("lam", 0) > 0:
        iterations, rank = penalty.get("iterations") or 8, penalty.get("rank", 16)
        step += penalty_flops(penalty.get("method", "svd"), shape, iterations, rank)
    return step * config["train"]["max_steps"]


WORKER_BYTES = 0.5e9  # a worker process with JAX loaded and a small trial, measured ≈ 0.3–0.5 GB


def estimated_memory(config: dict[str, Any]) -> float:
    """Rough peak resident bytes of a worker running this trial: only to keep parallel workers
    within the machine's memory (see ``executors.memory_budget``).

    The large case is the exact nuclear-norm solve of a sensing problem with k measurements of
    an m×n matrix: cvxpy's canonicalization of the dense constraints peaked (cvxpy 1.9, SCS
    3.3, 100×100) at 2.3, 9.2 and 14.5 GB for k = 1000, 3000 and 5000, bounded above by
    1.4 GB + 263·k·m·n bytes (exact at 3000 and 5000). Other trials: ``WORKER_BYTES`` plus 12
    bytes per entry of a sensing operator (its float64 draw and float32 copy for the engine)
    and, for a trained model, 40 bytes per parameter (``param_count``: the parameters, their
    gradient and two optimizer moments, in float64 at most, plus a working copy), so a
    mistyped depth or width shows in the :class:`~algoreg.errors.MemoryWarning` before it runs.
    A completion problem stored sparsely adds 135 bytes per observed entry (its draw, sorted
    index arrays and the engine's copies: 1.85 GB peak measured at 10⁷ entries, k = 20).
    """
    problem, model = config.get("problem") or {}, config["model"]
    m, n = tuple(problem.get("shape") or (1000, 1000))
    k = problem.get("n_obs", m * n) if problem.get("kind") == "sensing" else 0
    if model["kind"] == "nuclear_norm" and k:
        return 1.4e9 + 263.0 * k * m * n
    params = 0.0
    if is_trained(config):
        from ..models import get

        params = float(get(**config["model"]).param_count((m, n)))
    from ..problems import batch_fields

    sparse = "n_obs" in batch_fields(problem) if problem.get("kind") else False
    entries = 135.0 * problem.get("n_obs", 0) if sparse else 0.0
    return WORKER_BYTES + 12.0 * k * m * n + 40.0 * params + entries


def make_batches(trials: list[Trial], batch_size: int) -> list[list[Trial]]:
    """Group compatible trials into batches of at most ``batch_size`` (order kept)."""
    groups: dict[str, list[Trial]] = {}
    for t in trials:
        groups.setdefault(batch_key(t.config), []).append(t)
    batches = []
    for group in groups.values():
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    return batches
