"""The study-file reference, read off the validator itself.

Every key of every section and kind, with its type, its default and what is allowed, comes from
the code that checks a study file — so the reference cannot drift from it:

- the kinds are the registries' (:data:`~algoreg.problems.PROBLEMS`,
  :data:`~algoreg.models.MODELS`, :data:`~algoreg.studies.kinds.KINDS`, the penalties and
  optimizers);
- a kind's keys and defaults are what :func:`~.resolve.resolve_config` fills in for a minimal
  setting of that kind (a key the resolver cannot do without is *required*; its example value
  comes from the first preset that uses the kind);
- what a key allows is the resolver's own error message for a value out of range (a very
  small and a very large number, an unknown name), with the value it got cut off.

``docs/reference/study-file.md`` is :func:`markdown` written out (``python docs/gen_reference.py``);
a test compares the two.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..errors import ConfigError
from .config import REPORT_DEFAULTS, TOP_KEYS, from_dict
from .grid import points
from .resolve import DEFAULT_KINDS, TRAIN_DEFAULTS, resolve_config

REQUIRED = object()  # a key the resolver cannot do without
UNCHECKED: list[str] = []  # probes that raised something other than a ConfigError


@dataclass(frozen=True)
class Key:
    """One key of a kind: its default (or :data:`REQUIRED` with an example) and what the
    validator allows."""

    name: str
    default: Any
    example: Any
    allowed: str
    annotation: str = ""


@dataclass(frozen=True)
class Kind:
    """One kind of a section (a problem, model, penalty or optimizer kind)."""

    section: str
    name: str
    doc: str
    keys: tuple[Key, ...]


@functools.cache
def preset_points() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(preset name, first raw grid point) of every preset shipped with the package whose
    points resolve here (those reading a data folder do not without ``--data``)."""
    folder = resources.files("algoreg.studies") / "presets"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            study = from_dict(tomllib.loads(entry.read_text()), source=entry.name)
            try:
                out.append((entry.name.removesuffix(".toml"), next(points(study))))
            except ConfigError:
                continue
    return tuple(out)


def kinds_of(section: str) -> dict[str, Any]:
    """The registered kinds of ``section`` → the object documenting each."""
    if section == "problem":
        from ..problems import PROBLEMS

        return {name: checker for name, (_, checker) in PROBLEMS.items()}
    if section == "model":
        from ..models import MODELS
        from .kinds import KINDS

        return {**MODELS, **KINDS}
    if section == "penalty":
        from ..penalties import PENALTIES

        return {"none": None, **PENALTIES}
    if section == "optimizer":
        from ..optim.optimizers import _REGISTRY

        return {name: builder for name, (builder, _, _) in _REGISTRY.items()}
    raise ConfigError(f"no kinds in section {section!r}")


def _doc(obj: Any) -> str:
    """First paragraph of an object's docstring (a trial kind's ``doc``), on one line."""
    from .kinds import TrialKind

    if obj is None:
        return "No penalty."
    text = obj.doc if isinstance(obj, TrialKind) else inspect.getdoc(obj) or ""
    return " ".join(text.split("\n\n")[0].split())


def _declared(obj: Any) -> dict[str, tuple[Any, str]]:
    """name → (default or :data:`REQUIRED`, annotation) as the kind's code declares them."""
    from .kinds import TrialKind

    if isinstance(obj, TrialKind):
        try:
            defaults = obj.check({})  # a dataclass kind fills every default
        except (ConfigError, TypeError):
            defaults = {}
        return {name: (defaults.get(name, REQUIRED), "") for name in obj.settings}
    if dataclasses.is_dataclass(obj):
        return {
            f.name: (
                f.default if f.default is not dataclasses.MISSING else REQUIRED,
                str(f.type),
            )
            for f in dataclasses.fields(obj)
        }
    if callable(obj):
        return {
            name: (
                REQUIRED if p.default is inspect.Parameter.empty else p.default,
                "" if p.annotation is inspect.Parameter.empty else str(p.annotation),
            )
            for name, p in inspect.signature(obj).parameters.items()
            if name != "seed" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
    return {}


def _base_point(section: str, kind: str) -> dict[str, Any]:
    """A valid raw point whose ``section`` has ``kind``: the first preset's that uses it, else
    the first preset's with ``section`` reset to ``{"kind": kind}``."""
    first = None
    for _, point in preset_points():
        first = first or point
        table = point.get(section, {})
        if table.get("kind", DEFAULT_KINDS.get(section)) == kind:
            return point
    assert first is not None, "the package ships presets"
    return {**first, section: {"kind": kind}}


def _resolves(point: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return resolve_config(point)
    except ConfigError:
        return None


def _minimal(point: dict[str, Any], section: str) -> dict[str, Any]:
    """``point`` with ``section`` reduced to the keys it cannot resolve without."""
    table = dict(point.get(section, {}))
    for key in sorted(table):
        if key == "kind":
            continue
        trial = {k: v for k, v in table.items() if k != key}
        if _resolves({**point, section: trial}) is not None:
            table = trial
    return {**point, section: table}


_GOT = re.compile(r"[,;.]?\s*got\b.*$", re.S)


def _message(exc: ConfigError, section: str, key: str) -> str:
    text = str(exc)
    text = text.split(f"{section}.{key}: ", 1)[-1]  # the file:line: section.key: prefix
    text = _GOT.sub("", text).strip()
    text = re.sub(rf"^(optimizer '[^']+': )?{re.escape(key)}(\[\d\])? ", "", text)
    return text.rstrip(".")


def _probes(default: Any) -> list[Any]:
    if isinstance(default, bool):
        return ["?"]
    if isinstance(default, int):
        return [-(10**15), 10**15]
    if isinstance(default, float):
        return [-1e300, 1e300]
    if isinstance(default, str):
        return ["\u2049"]
    return ["\u2049", -1e300]


def _allowed(point: dict[str, Any], section: str, key: str, default: Any) -> str:
    said: list[str] = []
    for probe in _probes(default):
        table = {**point[section], key: probe}
        try:
            resolve_config({**point, section: table})
        except ConfigError as exc:
            text = _message(exc, section, key)
            if text and text not in said:
                said.append(text)
        except Exception as exc:  # the validator let a bad value through to the code
            UNCHECKED.append(f"{section}.{key} = {probe!r}: {type(exc).__name__}: {exc}")
    return "; ".join(said) or "any value of its type"


def describe(section: str, kind: str, obj: Any) -> Kind:
    """The keys of one kind, as the resolver fills and checks them."""
    declared = _declared(obj)
    point = _base_point(section, kind)
    if _resolves(point) is None:  # no preset uses the kind: try small values for what it needs
        guess = {
            n: [8, 8] if n == "shape" else 1 for n, (d, _) in declared.items() if d is REQUIRED
        }
        point = {**point, section: {**point[section], **guess}}
    point = _minimal(point, section)
    resolved = _resolves(point)
    if resolved is None or section not in resolved:  # it reads data this machine lacks
        keys = [
            Key(name, default, None, "not probed: no preset of this kind resolves here")
            for name, (default, _) in declared.items()
        ]
        return Kind(section, kind, _doc(obj), tuple(keys))
    given = point[section]
    keys = []
    filled = dict(resolved[section])
    for name, (default, _) in declared.items():  # options the resolver writes only when given
        if name not in filled and default is not REQUIRED:
            filled[name] = default
    for name, value in filled.items():
        value = _plain(value)
        allowed = _allowed(point, section, name, value)
        if name == "kind" or allowed.startswith("unknown key"):
            continue  # filled in by the resolver, not a key a study file gives
        required = name in given
        keys.append(
            Key(
                name=name,
                default=REQUIRED if required else value,
                example=value if required else None,
                allowed=allowed,
                annotation=declared.get(name, (None, ""))[1],
            )
        )
    return Kind(section, kind, _doc(obj), tuple(keys))


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers, tuples as lists."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return list(value) if isinstance(value, tuple) else value


def _fmt(value: Any) -> str:
    if value is REQUIRED:
        return "required"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value is None:
        return "none"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`".replace("(", "[").replace(")", "]")


def _type(value: Any) -> str:
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if isinstance(value, kind):
            return name
    if isinstance(value, list | tuple):
        return "list"
    if value is REQUIRED:
        return "—"
    return "—" if value is None else type(value).__name__


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _kind_table(kind: Kind) -> list[str]:
    lines = [f"### `{kind.name}`", "", _cell(kind.doc) or "(no description)", ""]
    if not kind.keys:
        return [*lines, "No keys besides `kind`.", ""]
    lines += ["| key | type | default | allowed |", "|---|---|---|---|"]
    for key in kind.keys:
        value = key.example if key.default is REQUIRED else key.default
        default = _fmt(key.default)
        if key.default is REQUIRED and key.example is not None:
            default += f" (e.g. {_fmt(key.example)})"
        kind_of = _type(value) if value is not None else _cell(key.annotation) or "—"
        lines.append(f"| `{key.name}` | {kind_of} | {_cell(default)} | {_cell(key.allowed)} |")
    return [*lines, ""]


SECTION_TEXT = {
    "problem": "What is recovered, from what data (`kind` default: `completion`).",
    "model": "What is trained (`kind` default: `factorization`), or a trial kind not trained "
    "by the engine (a convex baseline, a network protocol, convex clustering).",
    "penalty": "The explicit penalty added to the loss (`kind` default: `none`; `lam` its weight).",
    "optimizer": "The optimizer (`kind` default: `adam`); its float hyper-parameters may vary "
    "within one batch.",
}


def markdown() -> str:
    """The whole study-file reference as Markdown."""
    out = [
        "# Study-file reference",
        "",
        "<!-- generated by `python docs/gen_reference.py` from the validator; do not edit -->",
        "",
        "A study file is TOML. Every key below is read off the code that checks study files "
        "(`algoreg.studies.reference`): the defaults are what the resolver fills in, "
        "'allowed' is the validator's own message for a value out of range. A bound that "
        "depends on another key (a rank at most min(m, n)) is shown for the example's values. "
        "Any key of a section may also be a list under `[grid]` (dotted, e.g. "
        '`"model.depth" = [1, 2]`).',
        "",
        "## Top-level keys",
        "",
        " ".join(f"`{k}`" for k in TOP_KEYS) + ".",
        "",
        "## `[train]`",
        "",
        "| key | type | default | allowed |",
        "|---|---|---|---|",
    ]
    train = next(point for _, point in preset_points())
    for name, value in TRAIN_DEFAULTS.items():
        allowed = _allowed({**train, "train": {}}, "train", name, value)
        out.append(f"| `{name}` | {_type(value)} | {_fmt(value)} | {_cell(allowed)} |")
    out += ["", "## `[report]`", "", "| key | default |", "|---|---|"]
    for name, value in REPORT_DEFAULTS.items():
        out.append(f"| `{name}` | {_fmt(value) if value != () else 'none'} |")
    out.append("")
    for section, text in SECTION_TEXT.items():
        out += [f"## `[{section}]`", "", text, ""]
        for name, obj in sorted(kinds_of(section).items()):
            out += _kind_table(describe(section, name, obj))
    return "\n".join(out).rstrip() + "\n"


def presets_markdown() -> str:
    """The presets shipped with the package: name, what it runs, the claim it tests, and the
    size of its full and quick grids, read from the preset files themselves."""
    from ..dotted import dotted_items
    from .config import apply_overrides

    folder = resources.files("algoreg.studies") / "presets"
    out = [
        "# Presets",
        "",
        "<!-- generated by `python docs/gen_reference.py` from the preset files; do not edit -->",
        "",
        "Each preset is a study file shipped with the package: `algoreg reproduce NAME` runs it "
        "(`--quick` for its small form; `--data DIR` for those that read a data folder), prints "
        "its table with a verdict per claim check and writes its figure. The measured verdicts "
        "are on the [results page](../results.md).",
        "",
    ]
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        raw = tomllib.loads(entry.read_text())
        quick_table = raw.pop("quick", None)
        study = from_dict(raw, source=entry.name)
        quick = None
        if quick_table:
            quick_raw = apply_overrides(raw, list(dotted_items(quick_table)))
            quick = from_dict(quick_raw, source=entry.name)
        sizes = f"{study.size()} trials" + (f", quick form {quick.size()}" if quick else "")
        out += [f"## `{study.name}`", "", _cell(study.description), ""]
        if study.claim:
            label = study.report.get("claim_label", "Paper says")
            out += [f"*{label}:* {_cell(study.claim)}", ""]
        out += [f"Grid: {sizes}.", ""]
    return "\n".join(out).rstrip() + "\n"


__all__ = [
    "REQUIRED",
    "Key",
    "Kind",
    "describe",
    "kinds_of",
    "markdown",
    "preset_points",
    "presets_markdown",
]
