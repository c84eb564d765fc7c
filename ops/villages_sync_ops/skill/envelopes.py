"""Alexa request envelopes, built as Alexa sends them, for local runs and tests.

``whats_on_request`` resolves the spoken venue, category and part of day the way Alexa's entity
resolution does from the interaction model (whose types are written from the catalog): a value
or one of its synonyms gives ER_SUCCESS_MATCH with that value's id and name, anything else
ER_SUCCESS_NO_MATCH. Dates are AMAZON.DATE values, as Alexa would resolve the words.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from villages_sync.skill.catalog import CATEGORIES, PARTS_OF_DAY, VENUES

LOCAL_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
WHATS_ON_SLOTS = {
    "date": None,
    "venue": "VENUE",
    "category": "CATEGORY",
    "partOfDay": "PART_OF_DAY",
    "time": None,
}
# Every slot of the model and its custom type (None: a built-in, no entity resolution).
SLOT_TYPES = {**WHATS_ON_SLOTS, "position": None, "number": None, "query": None}
INTENT_SLOTS = {
    "WhatsOnIntent": tuple(WHATS_ON_SLOTS),
    "RefineIntent": tuple(WHATS_ON_SLOTS),
    "DetailsIntent": ("position", "number"),
    "RemindIntent": ("position", "number"),
    "LookupIntent": ("query",),
}
LOCAL_USER_ID = "amzn1.ask.account.LOCAL"
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
SCREEN_INTERFACES = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.3"}}}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _entries(slot_type: str) -> list[tuple[str, str, tuple[str, ...]]]:
    if slot_type == "VENUE":
        return [(v.id, v.name, v.synonyms) for v in VENUES]
    if slot_type == "CATEGORY":
        return [(c.id, c.name, c.synonyms) for c in CATEGORIES]
    return list(PARTS_OF_DAY)


def resolved_slot(
    name: str, spoken: str | None, slot_type: str | None, *, skill_id: str
) -> dict[str, Any]:
    """One slot as it appears in an IntentRequest; entity resolution for custom types."""
    slot: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if not spoken:
        return slot
    slot.update(value=spoken, source="USER")
    if slot_type is None:  # a built-in type (AMAZON.DATE): no entity resolution
        slot["slotValue"] = {"type": "Simple", "value": spoken}
        return slot
    wanted = " ".join(spoken.casefold().split())
    authority: dict[str, Any] = {
        "authority": f"amzn1.er-authority.echo-sdk.{skill_id}.{slot_type}",
        "status": {"code": "ER_SUCCESS_NO_MATCH"},
    }
    for value_id, value, synonyms in _entries(slot_type):
        if wanted in {s.casefold() for s in (value, *synonyms)}:
            authority["status"] = {"code": "ER_SUCCESS_MATCH"}
            authority["values"] = [{"value": {"name": value, "id": value_id}}]
            break
    resolutions = {"resolutionsPerAuthority": [authority]}
    slot["resolutions"] = resolutions
    slot["slotValue"] = {"type": "Simple", "value": spoken, "resolutions": resolutions}
    return slot


def envelope(
    request: Mapping[str, Any],
    *,
    attributes: Mapping[str, Any] | None = None,
    new: bool = True,
    session_id: str | None = None,
    skill_id: str = LOCAL_SKILL_ID,
    screen: bool = False,
    alexa: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``alexa``: where the Alexa APIs are for this request and who asks (``api_endpoint``,
    ``api_access_token``, ``user_id``, ``reminders_granted``), e.g. a stand-in's."""
    alexa = alexa or {}
    application = {"applicationId": skill_id}
    interfaces = dict(SCREEN_INTERFACES) if screen else {}
    user: dict[str, Any] = {"userId": alexa.get("user_id", LOCAL_USER_ID)}
    if alexa.get("reminders_granted"):
        user["permissions"] = {"scopes": {REMINDERS_SCOPE: {"status": "GRANTED"}}}
    return {
        "version": "1.0",
        "session": {
            "new": new,
            "sessionId": session_id or f"amzn1.echo-api.session.{uuid.uuid4()}",
            "application": application,
            "attributes": dict(attributes or {}),
            "user": user,
        },
        "context": {
            "System": {
                "application": application,
                "user": user,
                "device": {
                    "deviceId": "amzn1.ask.device.LOCAL",
                    "supportedInterfaces": interfaces,
                },
                "apiEndpoint": alexa.get("api_endpoint", "https://api.amazonalexa.com"),
                "apiAccessToken": alexa.get("api_access_token", "local"),
            }
        },
        "request": dict(request),
    }


def _request(kind: str, now: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "locale": "en-US",
        **fields,
    }


def launch_request(
    *, now: datetime, skill_id: str = LOCAL_SKILL_ID, screen: bool = False
) -> dict[str, Any]:
    return envelope(_request("LaunchRequest", now), skill_id=skill_id, screen=screen)


def intent_request(
    intent: str,
    *,
    now: datetime,
    slots: Mapping[str, dict[str, Any]] | None = None,
    attributes: Mapping[str, Any] | None = None,
    new: bool = True,
    skill_id: str = LOCAL_SKILL_ID,
    screen: bool = False,
    alexa: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body = {"name": intent, "confirmationStatus": "NONE", "slots": dict(slots or {})}
    request = _request("IntentRequest", now, dialogState="COMPLETED", intent=body)
    return envelope(
        request, attributes=attributes, new=new, skill_id=skill_id, screen=screen, alexa=alexa
    )


def spoken_request(
    intent: str,
    *,
    now: datetime,
    spoken: Mapping[str, str | None] | None = None,
    attributes: Mapping[str, Any] | None = None,
    new: bool = False,
    screen: bool = False,
    skill_id: str = LOCAL_SKILL_ID,
    alexa: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Any intent of the model as Alexa sends it mid-conversation: its slots all present, the
    spoken ones resolved (``spoken`` maps slot names to words, or to AMAZON.* values)."""
    said = dict(spoken or {})
    slots = {
        name: resolved_slot(name, said.get(name), SLOT_TYPES[name], skill_id=skill_id)
        for name in INTENT_SLOTS.get(intent, ())
    }
    return intent_request(
        intent,
        now=now,
        slots=slots,
        attributes=attributes,
        new=new,
        skill_id=skill_id,
        screen=screen,
        alexa=alexa,
    )


def connections_response(
    *,
    now: datetime,
    token: str,
    status: str,
    attributes: Mapping[str, Any] | None = None,
    alexa: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Alexa's answer to a Connections.SendRequest AskFor: the listener's ``status``
    (ACCEPTED, DENIED or NOT_ANSWERED) and the request's ``token``, in the same session."""
    granted = {**(alexa or {}), "reminders_granted": status == "ACCEPTED"}
    request = _request(
        "Connections.Response",
        now,
        name="AskFor",
        status={"code": "200", "message": "OK"},
        payload={"permissionScope": REMINDERS_SCOPE, "status": status},
        token=token,
    )
    return envelope(request, attributes=attributes, new=False, alexa=granted)


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_SAID = (
    (
        re.compile(r"^(?:remind me (?:about|of)|set a reminder for) (?:the )?(\w+)(?: one)?$"),
        "RemindIntent",
    ),
    (
        re.compile(r"^(?:tell me (?:more )?about|details on|what about) (?:the )?(\w+)(?: one)?$"),
        "DetailsIntent",
    ),
    (re.compile(r"^remind me(?: about (?:it|that one))?$"), "RemindIntent"),
)
_SAID_INTENTS = {
    "yes": "AMAZON.YesIntent",
    "no": "AMAZON.NoIntent",
    "more": "AMAZON.NextIntent",
    "repeat": "AMAZON.RepeatIntent",
    "go back": "AMAZON.PreviousIntent",
    "help": "AMAZON.HelpIntent",
    "stop": "AMAZON.StopIntent",
}


def said_intent(words: str) -> tuple[str, dict[str, str]] | None:
    """The intent and slots Alexa would resolve for a few follow-up phrases of the model
    ("remind me about the second one", "tell me about the first one", "yes", "more"), or None."""
    said = " ".join(words.casefold().replace("'", "").split()).rstrip(".?!")
    if said in _SAID_INTENTS:
        return _SAID_INTENTS[said], {}
    for pattern, intent in _SAID:
        match = pattern.match(said)
        if match is None:
            continue
        if not match.groups():
            return intent, {}
        word = match.group(1)
        if word in _ORDINALS:
            return intent, {"position": str(_ORDINALS.index(word) + 1)}
        digits = word.rstrip("stndrh")
        if digits.isdigit():
            return intent, {"position": digits}
    return None


def whats_on_request(
    *,
    now: datetime,
    date_value: str | None = None,
    venue: str | None = None,
    category: str | None = None,
    part_of_day: str | None = None,
    time_value: str | None = None,
    skill_id: str = LOCAL_SKILL_ID,
    alexa: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """WhatsOnIntent as Alexa sends it: every slot present, the spoken ones resolved."""
    spoken = {
        "date": date_value,
        "venue": venue,
        "category": category,
        "partOfDay": part_of_day,
        "time": time_value,
    }
    slots = {
        name: resolved_slot(name, spoken[name], slot_type, skill_id=skill_id)
        for name, slot_type in WHATS_ON_SLOTS.items()
    }
    return intent_request("WhatsOnIntent", now=now, slots=slots, skill_id=skill_id, alexa=alexa)


def session_ended_request(
    *, now: datetime, reason: str = "USER_INITIATED", attributes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    request = _request("SessionEndedRequest", now, reason=reason)
    return envelope(request, attributes=attributes, new=False)


def amazon_date(words: str, *, today: date) -> str:
    """The AMAZON.DATE value Alexa gives for common words (``tomorrow``, ``this weekend``,
    ``saturday``, ``next month``...); anything else is taken as a value already
    (``2026-W49-WE``, ``2026-12-05``)."""
    said = " ".join(words.casefold().split())
    week = today.isocalendar()
    following = today + timedelta(days=7)
    month_after = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    values = {
        "today": today.isoformat(),
        "tomorrow": (today + timedelta(days=1)).isoformat(),
        "this week": f"{week.year}-W{week.week:02d}",
        "next week": f"{following.isocalendar().year}-W{following.isocalendar().week:02d}",
        "this weekend": f"{week.year}-W{week.week:02d}-WE",
        "next weekend": (f"{following.isocalendar().year}-W{following.isocalendar().week:02d}-WE"),
        "this month": f"{today:%Y-%m}",
        "next month": f"{month_after:%Y-%m}",
    }
    if said in values:
        return values[said]
    if said in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(said) - today.weekday()) % 7
        return (today + timedelta(days=ahead)).isoformat()
    return words.strip()
