"""Which calendar base URLs a run may use; standard library only, so that the settings of
every function (the consumer's and the skill's too) can check one without loading yarl."""

from __future__ import annotations

from urllib.parse import urlsplit

# Plain http is for a stand-in on this machine only: anywhere else the token would cross the
# network in clear text (and a man in the middle could feed the run its own calendar).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def base_url_problem(base: str) -> str | None:
    """Why ``base`` cannot be the calendar's base URL, or None: it must be ``https://``, or
    ``http://`` to a loopback host (a local run's stand-in calendar)."""
    url = urlsplit(base)
    if url.scheme == "https" and url.hostname:
        return None
    if url.scheme == "http" and url.hostname in LOOPBACK_HOSTS:
        return None
    if url.scheme == "http":
        return f"calendar base URL must be https outside a local run (127.0.0.1), got {base!r}"
    return f"calendar base URL must be https, got {base!r}"
