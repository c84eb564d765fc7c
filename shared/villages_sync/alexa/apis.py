"""Login with Amazon's client-credentials token, the Skill Messaging API and the Reminders API,
called as Amazon documents them, each call retried as ``delivery`` says.

Nothing here logs a token, a client secret or a user id.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from villages_sync.alexa.http import HttpAnswer, JsonHttp, json_body
from villages_sync.reminders.delivery import (
    MAX_ATTEMPTS,
    DeliveryFailed,
    Outcome,
    backoff_seconds,
    outcome_of,
)

SKILL_MESSAGING_SCOPE = "alexa:skill_messaging"
MESSAGE_EXPIRES_SECONDS = 3600  # Alexa keeps an undelivered message this long (its default)
Sleep = Callable[[float], None]


def call(
    request: Callable[[], HttpAnswer],
    *,
    sleep: Sleep,
    refresh: Callable[[], None] | None = None,
) -> tuple[Outcome, HttpAnswer]:
    """``request()`` until it is done, revoked or failed: 429/5xx retried with back-off (at most
    MAX_ATTEMPTS calls), a 401 answered by ``refresh()`` and one more call."""
    refreshed, attempt = False, 1
    while True:
        answer = request()
        outcome = outcome_of(answer.status)
        if outcome is Outcome.REFRESH_TOKEN and refresh is not None and not refreshed:
            refresh()
            refreshed = True
            continue
        if outcome is Outcome.RETRY and attempt < MAX_ATTEMPTS:
            sleep(backoff_seconds(attempt, answer.retry_after))
            attempt += 1
            continue
        return outcome, answer


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """The skill's Login with Amazon client id and secret (from SSM, never the template)."""

    client_id: str
    client_secret: str

    @classmethod
    def from_json(cls, data: Any) -> ClientCredentials:
        if not isinstance(data, Mapping):
            raise ValueError("the client credentials are not a JSON object")
        client_id, secret = data.get("client_id"), data.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id:
            raise ValueError("the client credentials need client_id and client_secret")
        return cls(client_id, secret)

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret=***)"


class LwaTokens:
    """An access token for ``scope`` from the LWA token endpoint, kept until refreshed."""

    def __init__(
        self,
        http: JsonHttp,
        token_url: str,
        credentials: Callable[[], ClientCredentials],
        *,
        scope: str = SKILL_MESSAGING_SCOPE,
        sleep: Sleep,
    ) -> None:
        self._http, self._url, self._credentials = http, token_url, credentials
        self._scope, self._sleep = scope, sleep
        self._token: str | None = None
        self.fetched = 0  # tokens fetched (a test reads it)

    def token(self) -> str:
        if self._token is None:
            self._token = self._fetch()
        return self._token

    def refresh(self) -> None:
        self._token = None

    def _fetch(self) -> str:
        credentials = self._credentials()
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
                "scope": self._scope,
            }
        ).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        outcome, answer = call(
            lambda: self._http("POST", self._url, headers=headers, body=form), sleep=self._sleep
        )
        token = answer.body.get("access_token") if isinstance(answer.body, Mapping) else None
        if outcome is not Outcome.DONE or not isinstance(token, str) or not token:
            raise DeliveryFailed("the Login with Amazon token endpoint", answer.status)
        self.fetched += 1
        return token


class SkillMessaging:
    """POST /v1/skillmessages/users/{userId}: Alexa accepts the message (202) and delivers it
    to the skill as a Messaging.MessageReceived request."""

    def __init__(self, http: JsonHttp, api_endpoint: str, tokens: LwaTokens, *, sleep: Sleep):
        self._http, self._endpoint, self._tokens, self._sleep = http, api_endpoint, tokens, sleep

    def send(self, user_id: str, data: Mapping[str, str]) -> Outcome:
        """DONE (accepted) or REVOKED (403: the user disabled the skill or revoked it);
        raises ``DeliveryFailed`` for the rest, after the retries."""
        user = urllib.parse.quote(user_id, safe="")
        url = f"{self._endpoint.rstrip('/')}/v1/skillmessages/users/{user}"
        body = json_body({"data": dict(data), "expiresAfterSeconds": MESSAGE_EXPIRES_SECONDS})

        def request() -> HttpAnswer:
            headers = {
                "Authorization": f"Bearer {self._tokens.token()}",
                "Content-Type": "application/json",
            }
            return self._http("POST", url, headers=headers, body=body)

        outcome, answer = call(request, sleep=self._sleep, refresh=self._tokens.refresh)
        if outcome in (Outcome.DONE, Outcome.REVOKED):
            return outcome
        raise DeliveryFailed("the Skill Messaging API", answer.status)


class RemindersApi:
    """The Reminders API with the request's apiAccessToken (in session, or a
    Messaging.MessageReceived request's)."""

    def __init__(self, http: JsonHttp, api_endpoint: str, access_token: str, *, sleep: Sleep):
        self._http, self._sleep = http, sleep
        self._url = f"{api_endpoint.rstrip('/')}/v1/alerts/reminders"
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json",
        }

    def create(self, body: Mapping[str, Any]) -> tuple[Outcome, str | None]:
        """(DONE, the alert token), (REVOKED, None) on 401/403 (no permission: say so), or
        raises ``DeliveryFailed`` (throttled or down after the retries, or refused)."""
        outcome, answer = call(
            lambda: self._http("POST", self._url, headers=self._headers, body=json_body(body)),
            sleep=self._sleep,
        )
        if outcome is Outcome.DONE:
            token = answer.body.get("alertToken") if isinstance(answer.body, Mapping) else None
            if isinstance(token, str) and token:
                return outcome, token
            raise DeliveryFailed("the Reminders API (no alertToken)", answer.status)
        if outcome in (Outcome.REVOKED, Outcome.REFRESH_TOKEN):
            return Outcome.REVOKED, None
        raise DeliveryFailed("the Reminders API", answer.status)

    def update(self, alert_token: str, body: Mapping[str, Any]) -> Outcome:
        """DONE, REVOKED (403: permission revoked: recorded, dropped), or raises
        ``DeliveryFailed`` (a 401 too: Alexa redelivers the message with a fresh token)."""
        url = f"{self._url}/{urllib.parse.quote(alert_token, safe='')}"
        outcome, answer = call(
            lambda: self._http("PUT", url, headers=self._headers, body=json_body(body)),
            sleep=self._sleep,
        )
        if outcome in (Outcome.DONE, Outcome.REVOKED):
            return outcome
        raise DeliveryFailed("the Reminders API", answer.status)
