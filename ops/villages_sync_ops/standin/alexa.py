"""A stand-in for the Alexa side of reminders, written from Amazon's API references: Login with
Amazon's token endpoint (client credentials), the Skill Messaging API and the Reminders API.

For tests and local runs; binds 127.0.0.1 only. What it does as Alexa does:

- ``POST /auth/o2/token``: ``grant_type=client_credentials`` with the skill's client id and
  secret and a scope (``alexa:skill_messaging``) gives a bearer token (an hour); a wrong client
  is 401 ``invalid_client``, another grant 400.
- ``POST /v1/skillmessages/users/{userId}``: with that token, accepted (202), then delivered to
  the skill as a ``Messaging.MessageReceived`` request (no session) carrying a fresh
  ``apiAccessToken`` for the Reminders API; a delivery the skill fails is retried (a new token
  each time), as Alexa retries until the message expires. A user who disabled the skill: 403.
  As with Alexa, the delivery comes after the 202 (one at a time, in the order accepted);
  ``settle()`` waits until every accepted message was delivered or given up.
- ``/v1/alerts/reminders``: POST (create, in-session token only), PUT/GET/DELETE
  ``/{alertToken}``, GET (the user's reminders). A token it did not issue, or an expired one:
  401; a user who has not granted (or revoked) ``alexa::alerts:reminders:skill:readwrite``: 403;
  another user's reminder: 404; a body without a usable trigger or text: 400.

Tests steer it: ``grant``/``revoke`` a user's permission, ``fail_next`` a route with a status
(429 with ``Retry-After``, 5xx, 401, 403), and read what it holds (``reminders``, ``requests``).
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
import secrets
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from aiohttp import web

from villages_sync_ops.standin.background import BackgroundLoop

REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
MESSAGING_SCOPE = "alexa:skill_messaging"
TOKEN_SECONDS = 3600
DELIVERY_ATTEMPTS = 3  # Alexa retries a delivery the skill fails; here, this many times
ROUTES = ("token", "messages", "reminders.create", "reminders.update", "reminders.read")
LOCAL_CLIENT_ID = "amzn1.application-oa2-client.local"
LOCAL_CLIENT_SECRET = "local-stand-in-secret"
Deliver = Callable[[dict[str, Any]], dict[str, Any]]


class RecordedRequest(NamedTuple):
    method: str
    route: str
    status: int


@dataclass
class StoredReminder:
    alert_token: str
    user_id: str
    body: dict[str, Any]
    created: str
    updated: str
    version: int = 1  # 1 when created; each update adds one

    def as_api(self) -> dict[str, Any]:
        return {
            "alertToken": self.alert_token,
            "createdTime": self.created,
            "updatedTime": self.updated,
            "status": "ON",
            "version": str(self.version),
            "trigger": copy.deepcopy(self.body.get("trigger")),
            "alertInfo": copy.deepcopy(self.body.get("alertInfo")),
            "pushNotification": copy.deepcopy(self.body.get("pushNotification")),
        }

    @property
    def scheduled_time(self) -> str:
        return str(self.body.get("trigger", {}).get("scheduledTime", ""))

    @property
    def text(self) -> str:
        content = self.body.get("alertInfo", {}).get("spokenInfo", {}).get("content", [{}])
        return str(content[0].get("text", "")) if content else ""


@dataclass
class Delivery:
    user_id: str
    message: dict[str, Any]
    attempts: int = 0
    delivered: bool = False
    errors: list[str] = field(default_factory=list)


class StandInAlexa:
    """The stand-in's state and routes. ``await start()`` gives its base URL."""

    def __init__(
        self,
        *,
        skill_id: str,
        client_id: str = LOCAL_CLIENT_ID,
        client_secret: str = LOCAL_CLIENT_SECRET,
        deliver: Deliver | None = None,
    ) -> None:
        self.skill_id, self.client_id, self.client_secret = skill_id, client_id, client_secret
        self.deliver = deliver
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._lwa_tokens: dict[str, datetime] = {}
        self._api_tokens: dict[str, tuple[str, datetime]] = {}  # token -> (user, expiry)
        self._granted: set[str] = set()
        self._disabled: set[str] = set()
        self._reminders: dict[str, StoredReminder] = {}
        self._faults: dict[str, list[tuple[int, float | None]]] = {}
        self._runner: web.AppRunner | None = None
        self._deliverer = concurrent.futures.ThreadPoolExecutor(1, "stand-in-alexa-delivery")
        self._pending: list[concurrent.futures.Future[None]] = []

    # --- control (any thread) --------------------------------------------------------------

    def grant(self, user_id: str) -> None:
        with self._lock:
            self._granted.add(user_id)

    def revoke(self, user_id: str) -> None:
        with self._lock:
            self._granted.discard(user_id)

    def disable_skill(self, user_id: str) -> None:
        with self._lock:
            self._disabled.add(user_id)

    def granted(self, user_id: str) -> bool:
        with self._lock:
            return user_id in self._granted

    def api_token(self, user_id: str) -> str:
        """A fresh apiAccessToken for ``user_id`` (what Alexa puts in each request it sends)."""
        token = f"Atc|{secrets.token_urlsafe(24)}"
        with self._lock:
            self._api_tokens[token] = (user_id, _now() + timedelta(seconds=TOKEN_SECONDS))
        return token

    def expire_tokens(self) -> None:
        """Every token issued so far is expired from now on (401 until a new one is got)."""
        with self._lock:
            past = _now() - timedelta(seconds=1)
            self._lwa_tokens = dict.fromkeys(self._lwa_tokens, past)
            self._api_tokens = {t: (u, past) for t, (u, _) in self._api_tokens.items()}

    def fail_next(
        self, route: str, status: int, *, times: int = 1, retry_after: float | None = None
    ) -> None:
        """The next ``times`` requests to ``route`` (one of ROUTES) answer ``status``."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}")
        with self._lock:
            self._faults.setdefault(route, []).extend([(status, retry_after)] * times)

    def reminders(self, user_id: str | None = None) -> list[StoredReminder]:
        with self._lock:
            held = [copy.deepcopy(r) for r in self._reminders.values()]
        return [r for r in held if user_id is None or r.user_id == user_id]

    def save(self, path: Path) -> None:
        """What Alexa would keep between two commands: the reminders and who allowed them
        (tokens are not kept: each command gets fresh ones, as each request does)."""
        with self._lock:
            held = {
                "granted": sorted(self._granted),
                "reminders": [vars(r) for r in self._reminders.values()],
            }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(held, indent=1), encoding="utf-8")

    def load(self, path: Path) -> None:
        if not path.is_file():
            return
        held = json.loads(path.read_text(encoding="utf-8"))
        with self._lock:
            self._granted = set(held.get("granted", []))
            self._reminders = {
                r["alert_token"]: StoredReminder(**r) for r in held.get("reminders", [])
            }

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if r.route == route]

    # --- serving ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if host != "127.0.0.1":
            raise ValueError("the stand-in binds 127.0.0.1 only")
        app = web.Application()
        app.router.add_post("/auth/o2/token", self._token)
        app.router.add_post("/v1/skillmessages/users/{user_id}", self._message)
        app.router.add_post("/v1/alerts/reminders", self._create)
        app.router.add_get("/v1/alerts/reminders", self._list)
        app.router.add_get("/v1/alerts/reminders/{alert_token}", self._get)
        app.router.add_put("/v1/alerts/reminders/{alert_token}", self._update)
        app.router.add_delete("/v1/alerts/reminders/{alert_token}", self._delete)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        self._deliverer.shutdown(wait=False, cancel_futures=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- Login with Amazon -----------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.StreamResponse:
        fault = self._fault("token")
        if fault is not None:
            return self._answer(request, "token", fault)
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return self._json(request, "token", 400, {"error": "unsupported_grant_type"})
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return self._json(request, "token", 401, {"error": "invalid_client"})
        if form.get("scope") != MESSAGING_SCOPE:
            return self._json(request, "token", 400, {"error": "invalid_scope"})
        token = f"Atc|lwa|{secrets.token_urlsafe(24)}"
        with self._lock:
            self._lwa_tokens[token] = _now() + timedelta(seconds=TOKEN_SECONDS)
        body = {
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "scope": MESSAGING_SCOPE,
            "token_type": "bearer",
        }
        return self._json(request, "token", 200, body)

    # --- Skill Messaging -------------------------------------------------------------------

    async def _message(self, request: web.Request) -> web.StreamResponse:
        fault = self._fault("messages")
        if fault is not None:
            return self._answer(request, "messages", fault)
        if not self._lwa_token_valid(_bearer(request)):
            return self._json(request, "messages", 401, {"message": "invalid or expired token"})
        user_id = urllib.parse.unquote(request.match_info["user_id"])
        with self._lock:
            disabled = user_id in self._disabled
        if disabled:
            return self._json(request, "messages", 403, {"message": "the user disabled the skill"})
        try:
            body = await request.json()
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return self._json(request, "messages", 400, {"message": "data: string pairs"})
        delivery = Delivery(user_id, data)
        self.deliveries.append(delivery)
        with self._lock:
            self._pending.append(self._deliverer.submit(self._deliver, delivery))
        return self._record(request, "messages", web.Response(status=202))

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every message accepted so far was delivered (or given up)."""
        with self._lock:
            pending, self._pending = list(self._pending), []
        done, waiting = concurrent.futures.wait(pending, timeout=timeout)
        if waiting:
            raise TimeoutError(f"{len(waiting)} message(s) not delivered in {timeout} s")
        for future in done:
            future.result()

    def _deliver(self, delivery: Delivery) -> None:
        """Messaging.MessageReceived to the skill, retried while it fails (a new token each
        time), as Alexa does until the message expires."""
        if self.deliver is None:
            return
        while delivery.attempts < DELIVERY_ATTEMPTS and not delivery.delivered:
            delivery.attempts += 1
            envelope = self.message_envelope(delivery.user_id, delivery.message)
            try:
                self.deliver(envelope)
            except Exception as error:  # the skill failed: Alexa delivers again
                delivery.errors.append(str(error)[:300])
            else:
                delivery.delivered = True

    def message_envelope(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """The request Alexa sends a skill for a message: no session, a fresh apiAccessToken."""
        application = {"applicationId": self.skill_id}
        return {
            "version": "1.0",
            "context": {
                "System": {
                    "application": application,
                    "user": {"userId": user_id},
                    "apiEndpoint": self.base_url,
                    "apiAccessToken": self.api_token(user_id),
                }
            },
            "request": {
                "type": "Messaging.MessageReceived",
                "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
                "timestamp": _now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "message": dict(message),
            },
        }

    # --- Reminders -------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.StreamResponse:
        user_id, refusal = self._reminders_user(request, "reminders.create")
        if refusal is not None:
            return refusal
        body = await _json_body(request)
        problem = _reminder_problem(body)
        if problem:
            return self._json(
                request, "reminders.create", 400, {"code": "INVALID_REQUEST", "message": problem}
            )
        stamp = _stamp()
        reminder = StoredReminder(f"alert.{uuid.uuid4()}", str(user_id), body, stamp, stamp)
        with self._lock:
            self._reminders[reminder.alert_token] = reminder
        return self._json(request, "reminders.create", 201, reminder.as_api())

    async def _update(self, request: web.Request) -> web.StreamResponse:
        reminder, refusal = self._owned(request, "reminders.update")
        if reminder is None:
            assert refusal is not None
            return refusal
        body = await _json_body(request)
        problem = _reminder_problem(body)
        if problem:
            return self._json(
                request, "reminders.update", 400, {"code": "INVALID_REQUEST", "message": problem}
            )
        with self._lock:
            reminder.body, reminder.updated = body, _stamp()
            reminder.version += 1
        return self._json(request, "reminders.update", 200, reminder.as_api())

    async def _get(self, request: web.Request) -> web.StreamResponse:
        reminder, refusal = self._owned(request, "reminders.read")
        if reminder is None:
            assert refusal is not None
            return refusal
        return self._json(request, "reminders.read", 200, reminder.as_api())

    async def _list(self, request: web.Request) -> web.StreamResponse:
        user_id, refusal = self._reminders_user(request, "reminders.read")
        if refusal is not None:
            return refusal
        alerts = [r.as_api() for r in self.reminders(user_id)]
        return self._json(
            request, "reminders.read", 200, {"totalCount": str(len(alerts)), "alerts": alerts}
        )

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        reminder, refusal = self._owned(request, "reminders.update")
        if reminder is None:
            assert refusal is not None
            return refusal
        with self._lock:
            del self._reminders[reminder.alert_token]
        return self._record(request, "reminders.update", web.Response(status=200))

    def _owned(
        self, request: web.Request, route: str
    ) -> tuple[StoredReminder | None, web.StreamResponse | None]:
        """The request's reminder, if its token's user owns it; else the refusal (401, 403,
        404 for another user's or an unknown one)."""
        user_id, refusal = self._reminders_user(request, route)
        if refusal is not None:
            return None, refusal
        reminder = self._own(request, user_id)
        if reminder is None:
            return None, self._json(request, route, 404, {"code": "ALERT_NOT_FOUND"})
        return reminder, None

    def _reminders_user(
        self, request: web.Request, route: str
    ) -> tuple[str | None, web.StreamResponse | None]:
        fault = self._fault(route)
        if fault is not None:
            return None, self._answer(request, route, fault)
        token = _bearer(request)
        with self._lock:
            user_id, expires = self._api_tokens.get(token, (None, None))
            granted = user_id in self._granted
        if user_id is None or expires is None or expires <= _now():
            return None, self._json(request, route, 401, {"code": "UNAUTHORIZED"})
        if not granted:
            return None, self._json(
                request, route, 403, {"code": "FORBIDDEN", "message": "no reminders permission"}
            )
        return user_id, None

    def _own(self, request: web.Request, user_id: str | None) -> StoredReminder | None:
        token = urllib.parse.unquote(request.match_info["alert_token"])
        with self._lock:
            reminder = self._reminders.get(token)
        return reminder if reminder is not None and reminder.user_id == user_id else None

    # --- plumbing --------------------------------------------------------------------------

    def _lwa_token_valid(self, token: str) -> bool:
        with self._lock:
            expires = self._lwa_tokens.get(token)
        return expires is not None and expires > _now()

    def _fault(self, route: str) -> tuple[int, float | None] | None:
        with self._lock:
            queued = self._faults.get(route)
            return queued.pop(0) if queued else None

    def _answer(
        self, request: web.Request, route: str, fault: tuple[int, float | None]
    ) -> web.StreamResponse:
        status, retry_after = fault
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        response = web.json_response({"message": "injected fault"}, status=status, headers=headers)
        return self._record(request, route, response)

    def _json(self, request: web.Request, route: str, status: int, body: Any) -> web.StreamResponse:
        return self._record(request, route, web.json_response(body, status=status))

    def _record(
        self, request: web.Request, route: str, response: web.StreamResponse
    ) -> web.StreamResponse:
        self.requests.append(RecordedRequest(request.method, route, response.status))
        return response


def _reminder_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    trigger = body.get("trigger")
    if not isinstance(trigger, dict) or trigger.get("type") not in (
        "SCHEDULED_ABSOLUTE",
        "SCHEDULED_RELATIVE",
    ):
        return "trigger.type"
    if trigger["type"] == "SCHEDULED_ABSOLUTE":
        try:
            datetime.fromisoformat(str(trigger.get("scheduledTime")))
        except ValueError:
            return "trigger.scheduledTime"
        if not isinstance(trigger.get("timeZoneId"), str):
            return "trigger.timeZoneId"
    content = (
        body.get("alertInfo", {}).get("spokenInfo", {}).get("content")
        if isinstance(body.get("alertInfo"), dict)
        else None
    )
    if (
        not isinstance(content, list)
        or not content
        or not all(isinstance(c, dict) and c.get("text") for c in content)
    ):
        return "alertInfo.spokenInfo.content"
    return None


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp() -> str:
    return _now().strftime("%Y-%m-%dT%H:%M:%S.000Z")


class RunningAlexa:
    """``with RunningAlexa(skill_id=...) as alexa:`` runs a stand-in on its own event loop in a
    background thread, for synchronous code; ``alexa`` is the ``StandInAlexa`` (its control
    methods are thread-safe), ``alexa.base_url`` its URL."""

    def __init__(
        self, *, skill_id: str, deliver: Deliver | None = None, port: int = 0, **credentials: str
    ) -> None:
        self._alexa = StandInAlexa(skill_id=skill_id, deliver=deliver, **credentials)
        self._port = port
        self._background: BackgroundLoop | None = None

    def __enter__(self) -> StandInAlexa:
        background = BackgroundLoop("stand-in-alexa")
        self._background = background
        try:
            background.run(self._alexa.start(port=self._port))
        except BaseException:
            background.close()
            raise
        return self._alexa

    def __exit__(self, *exc_info: object) -> None:
        if self._background is not None:
            self._background.run(self._alexa.stop())
            self._background.close()
            self._background = None
