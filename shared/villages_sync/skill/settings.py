"""SkillFunction's settings, parsed once at the handler edge (errors name the variable), and
the check every request passes before it is answered.

Kept beside the skill rather than in ``villages_sync.settings`` so the skill's settings change
with the skill; the parsing helpers are the shared ones (``villages_sync.setting_parsers``, not
the pipeline's settings module: the skill's cold start loads none of its classes).

The skill fails closed: with no ``SKILL_ID`` every request is refused, in AWS and locally alike.
Local runs are not an exception the handler has to recognise: they configure a skill id of
their own (``LOCAL_SKILL_ID``, the one their envelopes carry), as a deployment is given the
real one, so nothing can turn verification off by leaving a variable out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.setting_parsers import (
    DEFAULT_TIMEZONE,
    SettingsError,
    _int_in,
    _log_level,
    _parsed,
    _required,
    _set,
)

_SKILL_ID = re.compile(r"^amzn1\.ask\.skill\.[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
_SHOWN_ID_CHARS = 80  # an id from an envelope is the sender's text: log no more of it


def _skill_id(raw: str) -> str:
    if not _SKILL_ID.match(raw):
        raise ValueError(raw)
    return raw


@dataclass(frozen=True, slots=True)
class SkillSettings:
    table_name: str
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    skill_id: str | None = None  # None: every request is refused (see request_refusal)
    log_level: str = "INFO"
    days_ahead: int = 90  # the sync's window (DAYS_AHEAD): how far ahead the table knows
    reminders_table_name: str | None = None  # None: no reminders are offered or set
    reminder_lead_minutes: int = 60  # a reminder rings this long before its event

    @property
    def reminder_lead(self) -> timedelta:
        return timedelta(minutes=self.reminder_lead_minutes)

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
                reminders_table_name=env.get("REMINDERS_TABLE_NAME", "").strip() or None,
                reminder_lead_minutes=_parsed(
                    env, "REMINDER_LEAD_MINUTES", _int_in(5, 2880), "a whole number 5-2880"
                ),
            )
        )


def request_refusal(skill_id: str | None, envelope: Mapping[str, Any]) -> str | None:
    """Why this request envelope must not be answered, or None when it is for ``skill_id``.

    Both places an envelope names its skill are checked (``context.System.application`` and,
    in a session, ``session.application``): each must be present where Alexa puts it and equal
    the configured id.
    """
    if skill_id is None:
        return "no skill id is configured (SKILL_ID): the skill answers no one until it is"
    named = [_application_id(envelope, "context", "System")]
    if isinstance(envelope.get("session"), Mapping):
        named.append(_application_id(envelope, "session"))
    if named[0] is None:
        return "the request names no skill (no context.System.application.applicationId)"
    for application_id in named:
        if application_id != skill_id:
            shown = str(application_id)[:_SHOWN_ID_CHARS]
            return f"the request is for another skill ({shown!r})"
    return None


def _application_id(envelope: Mapping[str, Any], *path: str) -> Any:
    node: Any = envelope
    for key in (*path, "application", "applicationId"):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


__all__ = ["SettingsError", "SkillSettings", "request_refusal"]
