"""The stand-in's faults as command-line options: ``calendar serve --fault NAME[=VALUE]``.

Every field of ``Faults`` but the mutation function is offered, under its name with dashes
(``rate-limit-first-n=3``); a switch alone (``--fault down``) turns it on. So an operator can
rehearse the runbook against a calendar that is down, rate-limited, drifting or reshaped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from villages_sync_ops.standin.server import Faults

_NOT_OFFERED = {"mutation"}  # a function or counts: set in code, not on a command line


def fault_defaults() -> dict[str, Any]:
    """Each offered fault's option name and its default (which also gives its type)."""
    return {
        field.name.replace("_", "-"): field.default
        for field in dataclasses.fields(Faults)
        if field.name not in _NOT_OFFERED
    }


def fault_help() -> str:
    """The list printed under ``calendar serve --help``."""
    lines = ["faults (--fault NAME or NAME=VALUE, repeatable; default in brackets):"]
    for name, default in fault_defaults().items():
        kind = "switch" if isinstance(default, bool) else f"={_kind(default)}"
        lines.append(f"  {name:<28} {kind} [{default}]")
    return "\n".join(lines)


def parse_fault(text: str) -> tuple[str, Any]:
    """``NAME`` or ``NAME=VALUE`` into a ``Faults`` field and its typed value (ValueError)."""
    name, sep, raw = text.partition("=")
    key = name.strip().lower().replace("_", "-")
    defaults = fault_defaults()
    if key not in defaults:
        raise ValueError(f"no fault {name!r}: one of {', '.join(defaults)}")
    default = defaults[key]
    field = key.replace("-", "_")
    if isinstance(default, bool):
        if not sep:
            return field, True
        if raw.lower() in ("true", "yes", "on", "1"):
            return field, True
        if raw.lower() in ("false", "no", "off", "0"):
            return field, False
        raise ValueError(f"fault {key}={raw!r}: true or false")
    if not sep:
        raise ValueError(f"fault {key} takes a value: {key}={_kind(default)}")
    try:
        if isinstance(default, float):
            return field, float(raw)
        if isinstance(default, str):
            return field, raw
        return field, int(raw)  # int, or None meaning "off" (a count of requests)
    except ValueError:
        raise ValueError(f"fault {key}={raw!r}: expected {_kind(default)}") from None


def faults_from(texts: list[str]) -> Faults:
    return Faults(**dict(parse_fault(text) for text in texts))


def _kind(default: Any) -> str:
    if isinstance(default, float):
        return "SECONDS"
    if isinstance(default, str):
        return "TEXT"
    return "N"
