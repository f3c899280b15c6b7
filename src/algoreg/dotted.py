"""Dotted keys of nested tables: ``{"model": {"depth": 3}}`` ↔ ``model.depth = 3``, the one
spelling study files, ``--set``/``--only``, result rows and reports share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def dotted_items(table: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """{"train": {"tol": 0}, "grid": {"model.depth": [1]}} → ("train.tol", 0), …"""
    for key, value in table.items():
        if isinstance(value, dict):
            yield from dotted_items(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
