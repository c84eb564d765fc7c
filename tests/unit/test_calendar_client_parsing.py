"""The calendar client's pure helpers: token extraction, Retry-After, back-off."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from villages_sync.calendar_api.pages import parse_json_int
from villages_sync.calendar_api.site_session import extract_token, token_problem
from villages_sync.calendar_api.transport import backoff_seconds, retry_after_seconds

B64 = "dmlsbGFnZXM6c2VjcmV0"


@pytest.mark.parametrize(
    "script",
    [
        f'var a=1;const dp_AUTH_TOKEN = "Basic {B64}";',
        f"dp_AUTH_TOKEN='Basic {B64}'",
        f"window.dp_AUTH_TOKEN  =  `Basic {B64}`;",
        f'x={{dp_AUTH_TOKEN:"Basic {B64}"}}',
    ],
)
def test_extract_token_dp_auth_spellings_returns_credential(script: str) -> None:
    # Given a script in one of the dp_AUTH_TOKEN spellings / When / Then
    assert extract_token(script) == B64


@pytest.mark.parametrize(
    "script",
    [
        'fetch(u,{headers:{Authorization:"Basic 0123456789abcdef01234567"}})',
        "{'Authorization': 'Basic 0123456789abcdef01234567'}",
        '{"Authorization":"Basic 0123456789abcdef01234567","Accept":"*/*"}',
        'headers:{authorization:"Basic 0123456789abcdef01234567"}',
        "{AUTHORIZATION: `Basic 0123456789abcdef01234567`}",
    ],
)
def test_extract_token_object_literal_returns_credential(script: str) -> None:
    assert extract_token(script) == "0123456789abcdef01234567"


@pytest.mark.parametrize(
    "script",
    ["", "var dp_AUTH_TOKEN = getToken();", 'headers:{Authorization:"Bearer abc"}', "<html>"],
)
def test_extract_token_without_basic_credential_returns_none(script: str) -> None:
    assert extract_token(script) is None


@pytest.mark.parametrize(
    "script",
    [
        "headers:{Authorization:`Basic ${token}`}",
        "headers:{authorization: `Basic ${window.t}`}",
        "const dp_AUTH_TOKEN = `Basic ${k}`",
    ],
)
def test_extract_token_template_variable_named_as_such(script: str) -> None:
    # Given a script whose credential is a template variable (docs/calendar-contract.md)
    # When it is read / Then no token (never "${token}"), and the problem says why
    assert extract_token(script) is None
    assert "template variable" in token_problem(script)


def test_token_problem_without_any_credential_names_both_spellings() -> None:
    assert "dp_AUTH_TOKEN" in token_problem("<html>")
    assert "template" not in token_problem("<html>")


def test_parse_json_int_huge_id_kept_as_text_page_still_readable() -> None:
    # Given a page whose one event has a 5,000-digit id (beyond Python's int/str limit)
    body = '{"count": 2, "events": [{"id": ' + "9" * 5000 + '}, {"id": 7}]}'
    # When it is parsed as the client does
    page = json.loads(body, parse_int=parse_json_int)
    # Then the page is readable: the odd id stays text (the normaliser rejects it alone)
    assert page["events"][1]["id"] == 7
    assert page["events"][0]["id"] == "9" * 5000


def test_retry_after_seconds_number_returns_seconds() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0.2 ") == pytest.approx(0.2)


def test_retry_after_seconds_http_date_returns_seconds_until_then() -> None:
    # Given a date 30 s after "now"
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)

    # When
    seconds = retry_after_seconds("Tue, 24 Nov 2026 12:00:30 GMT", now=now)

    # Then
    assert seconds == pytest.approx(30.0)


@pytest.mark.parametrize("value", [None, "", "soon", "nan"])
def test_retry_after_seconds_unusable_returns_none(value: str | None) -> None:
    assert retry_after_seconds(value) is None


def test_retry_after_seconds_past_date_returns_zero() -> None:
    now = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)

    assert retry_after_seconds("Tue, 24 Nov 2026 11:00:00 GMT", now=now) == 0.0


def test_backoff_seconds_full_jitter_stays_within_capped_exponential() -> None:
    # Given / When
    delays = [
        backoff_seconds(attempt, base=0.5, cap=3.0) for attempt in range(6) for _ in range(50)
    ]

    # Then
    assert all(0 <= d <= 3.0 for d in delays)
    assert all(0 <= backoff_seconds(0, base=0.5, cap=3.0) <= 0.5 for _ in range(50))
    assert max(delays) > 1.0  # later attempts really do wait longer
