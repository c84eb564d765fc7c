"""The calendar's credential and session: the token read from the site's auth script, the
calendar page fetched for its cookies, and one renewal when the API refuses the token."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

from villages_sync.calendar_api.transport import (
    CALENDAR_PAGE_LIMIT,
    TOKEN_SCRIPT_LIMIT,
    CalendarError,
    CalendarTransport,
)
from villages_sync.calendar_api.urls import CalendarUrls

logger = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# Both spellings seen in the wild; group "token" is the credential after "Basic ". The key
# has been met in lower case too (``authorization:``), so keys match in any case.
_TOKEN_PATTERNS = (
    re.compile(
        r"""dp_AUTH_TOKEN\s*[:=]\s*(?P<q>["'`])\s*Basic\s+(?P<token>[A-Za-z0-9+/=._~-]+)\s*(?P=q)""",
        re.IGNORECASE,
    ),
    re.compile(
        r"""(?P<k>["']?)Authorization(?P=k)\s*:\s*(?P<q>["'`])\s*Basic\s+"""
        r"""(?P<token>[A-Za-z0-9+/=._~-]+)\s*(?P=q)""",
        re.IGNORECASE,
    ),
)
# The credential in a template variable (``Authorization:`Basic ${token}` ``): the literal is
# elsewhere in the script, and sending "${token}" would only earn a 401.
_TEMPLATE_TOKEN = re.compile(
    r"""(?:dp_AUTH_TOKEN|Authorization)["']?\s*[:=]\s*`\s*Basic\s+\$\{""", re.IGNORECASE
)


def token_problem(script: str) -> str:
    """Why no credential could be read from the auth script, for the run's error."""
    if _TEMPLATE_TOKEN.search(script):
        return (
            "the credential is a template variable ('Basic ${...}'), not a literal: the "
            "script's shape changed, so the token cannot be read from it"
        )
    return "no 'dp_AUTH_TOKEN' or 'Authorization: \"Basic ...\"' credential in the script"


def extract_token(script: str) -> str | None:
    """The Basic credential embedded in the site's auth script, or None when neither spelling
    (``dp_AUTH_TOKEN = "Basic …"`` or ``Authorization:"Basic …"``) is present."""
    for pattern in _TOKEN_PATTERNS:
        match = pattern.search(script)
        if match:
            return match.group("token")
    return None


@dataclass
class SiteSession:
    """The token every events request carries (kept as the transport's secret, so no error
    repeats it) and the cookies of the calendar page, in the transport's session."""

    transport: CalendarTransport
    urls: CalendarUrls
    token_renewed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.token_lock = asyncio.Lock()

    @property
    def token(self) -> str:
        return self.transport.secret

    async def start(self) -> None:
        self.transport.secret = await self.fetch_token()
        await self.open_session()

    async def fetch_token(self) -> str:
        url = self.urls.token_url
        response = await self.transport.get_with_retries(url, {"Accept": "*/*"}, TOKEN_SCRIPT_LIMIT)
        if response.status != 200:
            raise CalendarError(url, f"HTTP {response.status} fetching the auth script")
        script = response.body.decode("utf-8", errors="replace")
        token = extract_token(script)
        if token is None:
            raise CalendarError(url, token_problem(script))
        return token

    async def open_session(self) -> None:
        """The calendar page, for its cookies. Whether the API needs them is unknown, so a
        failure here is logged and the scrape carries on; the API's answer is what counts."""
        url = self.urls.session_url
        try:
            response = await self.transport.get_with_retries(
                url, {"Accept": PAGE_ACCEPT}, CALENDAR_PAGE_LIMIT
            )
        except CalendarError as error:
            logger.warning(
                "calendar page unavailable", extra={"url": url, "problem": error.problem}
            )
            return
        if response.status != 200:
            logger.warning(
                "calendar page unavailable", extra={"url": url, "status": response.status}
            )

    async def renew_token(self, token_used: str, url: str, status: int) -> None:
        """Fetch the token again, once per scrape, shared by every page that saw it rejected."""
        async with self.token_lock:
            if self.token != token_used:
                return  # another page already renewed it: retry with the new one
            if self.token_renewed:
                raise CalendarError(url, f"HTTP {status}: the API refused a freshly fetched token")
            self.token_renewed = True
            logger.warning("calendar token refused; fetching it again", extra={"status": status})
            self.transport.secret = await self.fetch_token()
