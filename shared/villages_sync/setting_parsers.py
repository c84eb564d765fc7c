"""What every function's settings are parsed with: the error that names the variable, and the
parsers of a required value, an optional one, a number in a range and a log level.

A module of its own so that the skill's settings (``villages_sync.skill.settings``) use them
without loading the pipeline's settings classes (``villages_sync.settings``): a few ms of its
cold start (benchmarks/cold_start.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from zoneinfo import ZoneInfoNotFoundError

T = TypeVar("T")
N = TypeVar("N", int, float)

DEFAULT_TIMEZONE = "America/New_York"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is required but not set")
    return value


def _parsed(env: Mapping[str, str], name: str, parse: Callable[[str], T], what: str) -> T | None:
    """The variable parsed, or None when unset (then the field's own default applies)."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse(raw)
    except (ValueError, ZoneInfoNotFoundError) as error:
        raise SettingsError(f"{name}={raw!r} is not {what}") from error


def _set(**fields: Any) -> dict[str, Any]:
    """Constructor arguments without the unset ones, so each default is written only once: on
    its dataclass field. Any: each value is typed by the parser ``_parsed`` ran, and the
    dataclass's own field types are what the constructor is checked against at run time."""
    return {name: value for name, value in fields.items() if value is not None}


def _in_range(kind: Callable[[str], N], low: N, high: N) -> Callable[[str], N]:
    def parse(raw: str) -> N:
        value = kind(raw)
        if not low <= value <= high:  # also false for NaN
            raise ValueError(raw)
        return value

    return parse


def _int_in(low: int, high: int) -> Callable[[str], int]:
    return _in_range(int, low, high)


def _float_in(low: float, high: float) -> Callable[[str], float]:
    return _in_range(float, low, high)


def _log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError(raw)
    return raw.upper()
