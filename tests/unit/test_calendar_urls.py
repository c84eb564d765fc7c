"""CalendarUrls: one base URL moves the whole client; empty means the real site."""

from __future__ import annotations

import pytest
from villages_sync.calendar_api.urls import CalendarUrls


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
