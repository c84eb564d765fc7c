"""RemindersFunction's settings, parsed once at the handler edge (errors name the variable).

The skill's Login with Amazon client id and secret are not settings: ``ALEXA_CLIENT_PARAMETER``
names the SSM SecureString that holds them (JSON ``{"client_id": ..., "client_secret": ...}``),
read when a change first has a reminder to follow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from villages_sync.setting_parsers import (
    DEFAULT_TIMEZONE,
    _log_level,
    _parsed,
    _required,
    _set,
)

DEFAULT_ALEXA_API_ENDPOINT = "https://api.amazonalexa.com"
DEFAULT_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
_LOCAL_HTTP = re.compile(r"^(https://[^\s]+|http://(127\.0\.0\.1|localhost)(:[0-9]+)?(/[^\s]*)?)$")
_PARAMETER_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,1011}$")


def _url(raw: str) -> str:
    if not _LOCAL_HTTP.match(raw):
        raise ValueError(raw)
    return raw.rstrip("/")


def _parameter_name(raw: str) -> str:
    if not _PARAMETER_NAME.match(raw):
        raise ValueError(raw)
    return raw


@dataclass(frozen=True, slots=True)
class RemindersSettings:
    reminders_table_name: str
    client_parameter: str  # the SSM SecureString holding the LWA client id and secret
    alexa_api_endpoint: str = DEFAULT_ALEXA_API_ENDPOINT
    lwa_token_url: str = DEFAULT_LWA_TOKEN_URL
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RemindersSettings:
        return cls(
            **_set(
                reminders_table_name=_required(env, "REMINDERS_TABLE_NAME"),
                client_parameter=_required(env, "ALEXA_CLIENT_PARAMETER")
                and _parsed(
                    env, "ALEXA_CLIENT_PARAMETER", _parameter_name, "an SSM parameter name"
                ),
                alexa_api_endpoint=_parsed(
                    env, "ALEXA_API_ENDPOINT", _url, "an https URL (http: 127.0.0.1 only)"
                ),
                lwa_token_url=_parsed(
                    env, "LWA_TOKEN_URL", _url, "an https URL (http: 127.0.0.1 only)"
                ),
                timezone=_parsed(env, "TIMEZONE", ZoneInfo, "an IANA time zone"),
                log_level=_parsed(env, "LOG_LEVEL", _log_level, "a log level"),
            )
        )
