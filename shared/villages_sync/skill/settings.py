"""SkillFunction's settings, parsed once at the handler edge (errors name the variable).

Kept beside the skill rather than in ``villages_sync.settings`` so the skill's settings change
with the skill; the parsing helpers are the shared ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from villages_sync.settings import (
    DEFAULT_TIMEZONE,
    SettingsError,
    _int_in,
    _log_level,
    _parsed,
    _required,
    _set,
)

_SKILL_ID = re.compile(r"^amzn1\.ask\.skill\.[0-9a-f-]+$")


def _skill_id(raw: str) -> str:
    if not _SKILL_ID.match(raw):
        raise ValueError(raw)
    return raw


@dataclass(frozen=True, slots=True)
class SkillSettings:
    table_name: str
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    skill_id: str | None = None  # None: no verification (the skill does not exist yet)
    log_level: str = "INFO"
    days_ahead: int = 90  # the sync's window (DAYS_AHEAD): how far ahead the table knows

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SkillSettings:
        return cls(
            **_set(
                table_name=_required(env, "TABLE_NAME"),
                timezone=_parsed(env, "TIMEZONE", ZoneInfo, "an IANA time zone"),
                skill_id=_parsed(
                    env, "SKILL_ID", _skill_id, "an Alexa skill id (amzn1.ask.skill.…)"
                ),
                log_level=_parsed(env, "LOG_LEVEL", _log_level, "a log level"),
                days_ahead=_parsed(env, "DAYS_AHEAD", _int_in(0, 366), "a whole number 0-366"),
            )
        )


__all__ = ["SettingsError", "SkillSettings"]
