"""One typed settings object per function, parsed once at the handler edge.

Every error names the environment variable that is wrong, so a bad deploy says what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from villages_sync.calendar_api.base_url import base_url_problem

# Re-exported: the modules that read the pipeline's settings import these from here
from villages_sync.setting_parsers import DEFAULT_TIMEZONE as DEFAULT_TIMEZONE
from villages_sync.setting_parsers import LOG_LEVELS as LOG_LEVELS
from villages_sync.setting_parsers import SettingsError as SettingsError
from villages_sync.setting_parsers import (
    _float_in,
    _int_in,
    _log_level,
    _parsed,
    _required,
    _set,
)

if TYPE_CHECKING:  # imported by SweepSettings.rules: the other handlers never load the policy
    from villages_sync.sweep_policy import SweepRules

DEFAULT_CALENDAR_BASE_URL = ""  # empty: the real site's three hosts (see calendar_api.urls)


def _base_url(raw: str) -> str:
    if base_url_problem(raw):
        raise ValueError(raw)
    return raw.rstrip("/")


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    base_url: str = DEFAULT_CALENDAR_BASE_URL  # "" means the real site
    page_size: int = 100
    max_concurrency: int = 8
    max_attempts: int = 4
    timeout_seconds: float = 30.0  # per request
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CalendarSettings:
        return cls(
            **_set(
                base_url=_parsed(
                    env, "CALENDAR_BASE_URL", _base_url, "an https URL (http only to 127.0.0.1)"
                ),
                page_size=_parsed(env, "PAGE_SIZE", _int_in(1, 1000), "a whole number 1-1000"),
                max_concurrency=_parsed(
                    env, "MAX_CONCURRENCY", _int_in(1, 64), "a whole number 1-64"
                ),
                max_attempts=_parsed(env, "MAX_ATTEMPTS", _int_in(3, 10), "a whole number 3-10"),
                timeout_seconds=_parsed(
                    env, "TIMEOUT_SECONDS", _float_in(0.1, 900), "a number of seconds 0.1-900"
                ),
                backoff_base_seconds=_parsed(
                    env, "BACKOFF_BASE_SECONDS", _float_in(0, 60), "a number of seconds 0-60"
                ),
                backoff_max_seconds=_parsed(
                    env, "BACKOFF_MAX_SECONDS", _float_in(0, 300), "a number of seconds 0-300"
                ),
            )
        )


@dataclass(frozen=True, slots=True)
class ProducerSettings:
    runs_table_name: str
    events_queue_url: str
    sweep_queue_url: str
    calendar: CalendarSettings
    days_ahead: int = 90
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    max_message_bytes: int = 256 * 1024
    max_events_per_message: int = 100
    # More than this share of the fetched events invalid (outside the window not counted): the
    # run is degraded, stores what is valid and never sweeps.
    max_reject_ratio: float = 0.02
    log_level: str = "INFO"
    # The bucket each run's raw pages go to; empty: no capture (RawCapture Disabled).
    raw_capture_bucket: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProducerSettings:
        return cls(
            **_set(
                runs_table_name=_required(env, "RUNS_TABLE_NAME"),
                events_queue_url=_required(env, "EVENTS_QUEUE_URL"),
                sweep_queue_url=_required(env, "SWEEP_QUEUE_URL"),
                calendar=CalendarSettings.from_env(env),
                days_ahead=_parsed(env, "DAYS_AHEAD", _int_in(0, 366), "a whole number 0-366"),
                timezone=_parsed(env, "TIMEZONE", ZoneInfo, "an IANA time zone"),
                max_message_bytes=_parsed(
                    env,
                    "MAX_MESSAGE_BYTES",
                    _int_in(8 * 1024, 256 * 1024),
                    "a size in bytes 8192-262144",
                ),
                max_events_per_message=_parsed(
                    env, "MESSAGE_MAX_EVENTS", _int_in(1, 1000), "a whole number 1-1000"
                ),
                max_reject_ratio=_parsed(env, "MAX_REJECT_RATIO", _float_in(0, 1), "a ratio 0-1"),
                log_level=_parsed(env, "LOG_LEVEL", _log_level, "a log level"),
                raw_capture_bucket=env.get("RAW_CAPTURE_BUCKET", "").strip() or None,
            )
        )


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    table_name: str
    runs_table_name: str
    sweep_queue_url: str
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ConsumerSettings:
        return cls(
            **_set(
                table_name=_required(env, "TABLE_NAME"),
                runs_table_name=_required(env, "RUNS_TABLE_NAME"),
                sweep_queue_url=_required(env, "SWEEP_QUEUE_URL"),
                log_level=_parsed(env, "LOG_LEVEL", _log_level, "a log level"),
            )
        )


@dataclass(frozen=True, slots=True)
class SweepSettings:
    table_name: str
    runs_table_name: str
    min_ratio: float = 0.5  # of the last swept run's event count
    max_delete_ratio: float = 0.10  # of the items in the window, not seen by the run
    misses_before_delete: int = 2  # clean runs in a row that did not see an item
    log_level: str = "INFO"

    @property
    def rules(self) -> SweepRules:
        from villages_sync.sweep_policy import SweepRules

        return SweepRules(
            min_ratio=self.min_ratio,
            max_delete_ratio=self.max_delete_ratio,
            misses_before_delete=self.misses_before_delete,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SweepSettings:
        return cls(
            **_set(
                table_name=_required(env, "TABLE_NAME"),
                runs_table_name=_required(env, "RUNS_TABLE_NAME"),
                min_ratio=_parsed(env, "SWEEP_MIN_RATIO", _float_in(0, 1), "a ratio 0-1"),
                max_delete_ratio=_parsed(env, "MAX_DELETE_RATIO", _float_in(0, 1), "a ratio 0-1"),
                misses_before_delete=_parsed(
                    env, "SWEEP_MISSES_BEFORE_DELETE", _int_in(1, 10), "a whole number 1-10"
                ),
                log_level=_parsed(env, "LOG_LEVEL", _log_level, "a log level"),
            )
        )


@dataclass(frozen=True, slots=True)
class ChangesSettings:
    """ChangesFunction: where changes are recorded and published."""

    changes_table_name: str
    changes_bus_name: str
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ChangesSettings:
        return cls(
            **_set(
                changes_table_name=_required(env, "CHANGES_TABLE_NAME"),
                changes_bus_name=_required(env, "CHANGES_BUS_NAME"),
                log_level=_parsed(env, "LOG_LEVEL", _log_level, "a log level"),
            )
        )
