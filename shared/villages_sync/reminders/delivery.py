"""What an answer of an Alexa API means for the call that got it, as Amazon documents the
status codes (LWA, Skill Messaging, Reminders). Pure.

- 2xx: done.
- 401: the access token is invalid or expired: get a new one and try again, once.
- 403: the listener revoked the skill's permission (or disabled the skill): nothing will ever
  succeed for this reminder; recorded and dropped, never retried.
- 429 and 5xx: throttled or unavailable: retried with exponential back-off (honouring
  ``Retry-After``), a few times; then the call fails and its record goes back to the queue
  (and, after the queue's maxReceiveCount, to its DLQ).
- anything else (400, 404...): our request is wrong; retrying cannot help: failed.
"""

from __future__ import annotations

from enum import StrEnum

MAX_ATTEMPTS = 4  # per call: the first and three retries
BASE_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 8.0


class Outcome(StrEnum):
    DONE = "done"
    REFRESH_TOKEN = "refresh-token"
    REVOKED = "revoked"
    RETRY = "retry"
    FAILED = "failed"


def outcome_of(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.DONE
    if status == 401:
        return Outcome.REFRESH_TOKEN
    if status == 403:
        return Outcome.REVOKED
    if status == 429 or 500 <= status < 600:
        return Outcome.RETRY
    return Outcome.FAILED


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """The wait before retry number ``attempt`` (1, 2, ...): doubling from BASE_DELAY_SECONDS,
    or what ``Retry-After`` asks if longer, never above MAX_DELAY_SECONDS."""
    delay = BASE_DELAY_SECONDS * float(2 ** (attempt - 1))
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return min(delay, MAX_DELAY_SECONDS)


class DeliveryFailed(RuntimeError):
    """An Alexa call did not succeed after its retries (or cannot): the caller's record fails."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what} answered {status}")
        self.status = status
