"""Preset studies shipped with the package (``algoreg reproduce NAME``)."""

from __future__ import annotations

from pathlib import Path

from ..errors import unknown_name

PRESET_DIR = Path(__file__).parent / "presets"
PRESETS = tuple(sorted(p.stem for p in PRESET_DIR.glob("*.toml")))


def preset_path(name: str) -> Path:
    """Path of the preset study file ``name``."""
    if name not in PRESETS:
        raise unknown_name("preset", name, PRESETS)
    return PRESET_DIR / f"{name}.toml"
