"""What a trial's config makes: the problem of a config's ``problem`` section."""

from __future__ import annotations

from typing import Any


def build_problem(config: dict[str, Any]):
    """The problem of ``config["problem"]`` drawn with the trial's replicate ``seed``."""
    from ..problems import PROBLEMS

    params = dict(config["problem"])
    kind = params.pop("kind")
    params["shape"] = tuple(params["shape"])
    return PROBLEMS[kind][0](**params, seed=config["seed"])


__all__ = ["build_problem"]
