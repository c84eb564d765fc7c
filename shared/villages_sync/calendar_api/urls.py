"""Where the calendar's three requests go: the real site, or a stand-in under one base URL."""

from __future__ import annotations

from dataclasses import dataclass

from yarl import URL

from villages_sync.calendar_api.base_url import base_url_problem

REAL_TOKEN_URL = "https://cdn.thevillages.com/web_components/myvillages-auth-forms/main.js"
REAL_SESSION_URL = "https://www.thevillages.com/calendar/"
REAL_EVENTS_URL = "https://api.v2.thevillages.com/events/"

TOKEN_PATH = "/web_components/myvillages-auth-forms/main.js"
SESSION_PATH = "/calendar/"
EVENTS_PATH = "/events/"


@dataclass(frozen=True, slots=True)
class CalendarUrls:
    token_url: str  # the script that embeds the API credential
    session_url: str  # the calendar page: cookies, and the Referer of API requests
    events_url: str  # the JSON events API

    @classmethod
    def for_base(cls, base: str) -> CalendarUrls:
        """``""`` is the real site (three hosts); anything else is a stand-in serving all three."""
        if not base:
            return cls(REAL_TOKEN_URL, REAL_SESSION_URL, REAL_EVENTS_URL)
        problem = base_url_problem(base)
        if problem:
            raise ValueError(problem)
        root = base.rstrip("/")
        return cls(f"{root}{TOKEN_PATH}", f"{root}{SESSION_PATH}", f"{root}{EVENTS_PATH}")

    @property
    def origin(self) -> str:
        """The site's origin, sent as ``Origin`` (the calendar page's scheme, host and port)."""
        return str(URL(self.session_url).origin())

    @property
    def referer(self) -> str:
        """The calendar page, sent as ``Referer`` like the browser app does."""
        return self.session_url
