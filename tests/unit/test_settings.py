"""Settings parsed at the edge: defaults, and errors that name the bad variable."""

from __future__ import annotations

import pytest
from villages_sync.settings import (
    ConsumerSettings,
    ProducerSettings,
    SettingsError,
    SweepSettings,
)

PRODUCER_ENV = {
    "RUNS_TABLE_NAME": "runs",
    "EVENTS_QUEUE_URL": "http://q/events",
    "SWEEP_QUEUE_URL": "http://q/sweep",
}


def test_producer_settings_defaults_match_the_documented_ones():
    # Given only the required variables / When parsed
    settings = ProducerSettings.from_env(PRODUCER_ENV)

    # Then the defaults are the README's
    assert settings.days_ahead == 90
    assert settings.calendar.timeout_seconds == 30
    assert settings.calendar.page_size == 100
    assert settings.calendar.max_concurrency == 8
    assert settings.calendar.base_url == ""
    assert str(settings.timezone) == "America/New_York"
    assert settings.log_level == "INFO"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DAYS_AHEAD", "ninety"),
        ("DAYS_AHEAD", "-1"),
        ("TIMEOUT_SECONDS", "0"),
        ("PAGE_SIZE", "100000"),
        ("MAX_CONCURRENCY", "0"),
        ("MAX_ATTEMPTS", "2"),
        ("TIMEZONE", "Mars/Olympus_Mons"),
        ("CALENDAR_BASE_URL", "ftp://example"),
        ("LOG_LEVEL", "LOUD"),
        ("MAX_MESSAGE_BYTES", "300000"),
    ],
)
def test_producer_settings_bad_value_error_names_the_variable(variable, value):
    # Given one bad variable / When parsed / Then the error names it and its value
    with pytest.raises(SettingsError, match=rf"^{variable}=.*{value[:4]}"):
        ProducerSettings.from_env({**PRODUCER_ENV, variable: value})


@pytest.mark.parametrize(
    ("parse", "env", "missing"),
    [
        (ProducerSettings.from_env, {**PRODUCER_ENV, "EVENTS_QUEUE_URL": ""}, "EVENTS_QUEUE_URL"),
        (ConsumerSettings.from_env, {"RUNS_TABLE_NAME": "r", "SWEEP_QUEUE_URL": "u"}, "TABLE_NAME"),
        (SweepSettings.from_env, {"TABLE_NAME": "t"}, "RUNS_TABLE_NAME"),
    ],
)
def test_settings_missing_required_variable_error_names_it(parse, env, missing):
    # Given a required variable unset / When parsed / Then the error names it
    with pytest.raises(SettingsError, match=f"^{missing} is required"):
        parse(env)


def test_sweep_settings_min_ratio_outside_0_1_rejected():
    with pytest.raises(SettingsError, match="SWEEP_MIN_RATIO"):
        SweepSettings.from_env({"TABLE_NAME": "t", "RUNS_TABLE_NAME": "r", "SWEEP_MIN_RATIO": "2"})
