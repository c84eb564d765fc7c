"""CalendarUrls: one base URL moves the whole client; empty means the real site."""

from __future__ import annotations

import re

import pytest
from villages_sync.calendar_api.urls import CalendarUrls
from villages_sync.settings import CalendarSettings, SettingsError
from villages_sync_ops.local.template import default_template_path, load_template


def test_for_base_empty_is_the_real_site() -> None:
    # Given no base URL / When / Then
    urls = CalendarUrls.for_base("")

    assert urls == CalendarUrls(
        token_url="https://cdn.thevillages.com/web_components/myvillages-auth-forms/main.js",
        session_url="https://www.thevillages.com/calendar/",
        events_url="https://api.v2.thevillages.com/events/",
    )
    assert urls.origin == "https://www.thevillages.com"
    assert urls.referer == "https://www.thevillages.com/calendar/"


@pytest.mark.parametrize("base", ["http://127.0.0.1:8321", "http://127.0.0.1:8321/"])
def test_for_base_stand_in_serves_three_paths_under_the_base(base: str) -> None:
    # Given a stand-in base, with or without a trailing slash
    # When
    urls = CalendarUrls.for_base(base)

    # Then
    assert urls.token_url == "http://127.0.0.1:8321/web_components/myvillages-auth-forms/main.js"
    assert urls.session_url == "http://127.0.0.1:8321/calendar/"
    assert urls.events_url == "http://127.0.0.1:8321/events/"
    assert urls.origin == "http://127.0.0.1:8321"
    assert urls.referer == "http://127.0.0.1:8321/calendar/"


def test_for_base_with_path_keeps_path_but_origin_is_host_only() -> None:
    # Given a base under a path / When
    urls = CalendarUrls.for_base("https://mirror.example.test/villages")

    # Then
    assert urls.events_url == "https://mirror.example.test/villages/events/"
    assert urls.origin == "https://mirror.example.test"


def test_for_base_not_http_raises_value_error() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="http"):
        CalendarUrls.for_base("ftp://example.test")


def test_calendar_urls_is_frozen() -> None:
    urls = CalendarUrls.for_base("")

    with pytest.raises(AttributeError):
        urls.events_url = "http://elsewhere.test/"  # type: ignore[misc]


BASE_URLS = [
    ("https://calendar.example", True),
    ("https://calendar.example:8443/api", True),
    ("http://127.0.0.1:8321", True),  # a local run's stand-in
    ("http://localhost:8321", True),
    ("http://[::1]:8321", True),
    ("http://calendar.example", False),  # the token would cross the network in clear
    ("http://127.0.0.1.example.com", False),
    ("http://10.0.0.5:8321", False),
    ("ftp://calendar.example", False),
    ("https://", False),
]


@pytest.mark.parametrize(("base", "accepted"), BASE_URLS)
def test_base_url_https_outside_local_runs(base: str, accepted: bool) -> None:
    # Given a base URL / When the client and the producer's settings read it
    def settings_accept() -> bool:
        try:
            CalendarSettings.from_env({"CALENDAR_BASE_URL": base})
        except SettingsError as error:
            assert str(error).startswith("CALENDAR_BASE_URL=")
            return False
        return True

    def client_accepts() -> bool:
        try:
            CalendarUrls.for_base(base)
        except ValueError as error:
            assert "https" in str(error)
            return False
        return True

    # Then both agree: https anywhere, plain http only to this machine
    assert (settings_accept(), client_accepts()) == (accepted, accepted)


@pytest.mark.parametrize(("base", "accepted"), [*BASE_URLS, ("", True)])
def test_template_calendar_base_url_pattern_agrees_with_the_client(base: str, accepted: bool):
    # Given the template's own pattern for the CalendarBaseUrl parameter
    pattern = load_template(default_template_path())["Parameters"]["CalendarBaseUrl"]
    # When / Then a deploy refuses exactly what the client would (empty: the real site)
    assert bool(re.fullmatch(pattern["AllowedPattern"], base)) is accepted
