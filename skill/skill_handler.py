"""SkillFunction: the Alexa skill's backend (AlexaSkill event), built with the ASK SDK.

Thin: each request handler turns the request into plain values and says the Reply that
``villages_sync.skill.conversation`` composes. Reads go through ``EventReads.events_on`` (the
date and multi-day indexes, Queries only). The moment of asking is the request's timestamp.
Session attributes come from the device: the conversation module validates them. Devices that
declare a screen get the answer's list as APL (``villages_sync.skill.screen``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response
from ask_sdk_model.ui import SimpleCard
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from villages_sync.aws.clients import aws_clients
from villages_sync.aws.event_reads import EventReads
from villages_sync.package_logs import log_through, set_log_level
from villages_sync.skill import conversation as talk
from villages_sync.skill import follow_ups as follow
from villages_sync.skill.reader import read_days
from villages_sync.skill.screen import list_document
from villages_sync.skill.settings import SkillSettings, request_refusal
from villages_sync.skill.slots import slot_choice

if TYPE_CHECKING:  # types only: Lambda passes its own context object; the reminders' modules
    # (reminding, the adapters) are imported by the turns that set or follow a reminder, not by
    # every cold start (see reminders_api)
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from villages_sync.alexa.apis import RemindersApi
    from villages_sync.aws.reminders_table import RemindersTable
    from villages_sync.skill import reminding

LOGGED_SLOT_CHARS = 100  # slot text in a log line is cut to this (a listener can say a lot)

logger = Logger(service="villages-sync-skill")
# villages_sync's own loggers (the calendar client's retries and drift, the sweep's refusals)
# write through this one, once for the process: its JSON, its level, its correlation id
log_through(logger)
metrics = Metrics()
Answer = Callable[[HandlerInput], talk.Reply | None]
NOTICE_CHARS = 300  # Alexa's error text is logged, cut: it is not ours to trust


class Replies(AbstractRequestHandler):
    """Answers the request types and intents in ``names`` with ``answer(handler_input)``."""

    def __init__(self, names: tuple[str, ...], answer: Answer) -> None:
        self.names, self.answer = names, answer

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(
            is_request_type(name)(handler_input) or is_intent_name(name)(handler_input)
            for name in self.names
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        return say(handler_input, self.answer(handler_input))


class Responds(Replies):
    """As ``Replies``, for answers that build the whole Response (a directive, a consent card,
    an empty acknowledgement)."""

    def __init__(self, names: tuple[str, ...], respond: Callable[[HandlerInput], Response]):
        super().__init__(names, lambda handler_input: None)
        self.respond = respond

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.respond(handler_input)


class ErrorNotice(AbstractRequestHandler):
    """System.ExceptionEncountered: Alexa's notice that a response of ours failed. Not a
    question, so not unanswered: logged at INFO, answered with nothing (Alexa accepts no
    speech), and kept out of SkillUnanswered, whose alarm is about listeners left without an
    answer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("System.ExceptionEncountered")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        error, cause = request.error, request.cause
        kind = getattr(error, "object_type", None)  # an ErrorType enum: log its value
        logger.info(
            "alexa reported an error with a response",
            extra={
                "error_type": _cut(getattr(kind, "value", kind)),
                "error_message": _cut(getattr(error, "message", None)),
                "cause_request_id": _cut(getattr(cause, "request_id", None)),
            },
        )
        return handler_input.response_builder.response


def _cut(value: object) -> str:
    return str(value)[:NOTICE_CHARS]


class RequestRefused(Exception):
    """The request is not for this skill, or no skill is configured (fail closed)."""


class Apologises(AbstractExceptionHandler):
    """Any failure: an apology rather than Alexa's error tone; "I can't read the calendar" only
    when the calendar's table could not be read."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        # A message Alexa delivers (Messaging.MessageReceived) that failed must fail: Alexa
        # then delivers it again, with a fresh token. Nobody is listening to an apology.
        return not is_request_type("Messaging.MessageReceived")(handler_input)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        logger.exception("could not answer")
        metrics.add_metric(name="SkillUnanswered", unit=MetricUnit.Count, value=1)
        unreadable = isinstance(exception, talk.CalendarUnreadable)
        text = talk.APOLOGY if unreadable else talk.FAULT
        return say(handler_input, talk.Reply(talk.Speech.plain(text)))


def whats_on(
    handler_input: HandlerInput, *, settings: SkillSettings, follow_up: bool = False
) -> talk.Reply:
    """A question; ``follow_up`` (a one-word answer) changes the question in the session."""
    intent = handler_input.request_envelope.request.intent
    slots = {name: slot_choice(slot) for name, slot in (intent.slots or {}).items()}
    now = asked_at(handler_input, settings)
    pending = talk.pending_of(session(handler_input), now=now) if follow_up else None
    base = pending.question if pending else None
    question = talk.understand(slots, today=now.date(), base=base)
    logger.info("question", extra={"slots": logged_slots(slots), "follow_up": follow_up})
    metrics.add_metric(name="SkillQuestions", unit=MetricUnit.Count, value=1)
    if isinstance(question, talk.NotUnderstood):
        return talk.not_understood(question, now=now)
    return talk.answer_question(
        question,
        read=reader(settings),
        now=now,
        tz=settings.timezone,
        days_ahead=settings.days_ahead,
    )


def more(handler_input: HandlerInput, *, settings: SkillSettings) -> talk.Reply:
    now = asked_at(handler_input, settings)
    return follow.read_all(
        session(handler_input), read=reader(settings), tz=settings.timezone, now=now
    )


def yes(handler_input: HandlerInput, *, settings: SkillSettings) -> talk.Reply:
    now = asked_at(handler_input, settings)
    attributes = session(handler_input)
    pending = talk.pending_of(attributes, now=now)
    if pending is not None and pending.complete:  # "yes" to "would you like another day...?"
        speech = talk.Speech.plain("Which day, venue or kind of event would you like?")
        return talk.Reply(speech, speech, None, pending.as_attributes())
    return talk.continue_answer(attributes, read=reader(settings), tz=settings.timezone, now=now)


def no(handler_input: HandlerInput, *, settings: SkillSettings) -> talk.Reply:
    """ "No" to "shall I read those?" narrows differently; otherwise it ends the conversation."""
    now = asked_at(handler_input, settings)
    pending = talk.pending_of(session(handler_input), now=now)
    if pending is None or not pending.offer:
        return talk.Reply(talk.Speech.plain(talk.GOODBYE))
    text = "Which kind of event, venue or time of day would you like? Or say all of them."
    speech = talk.Speech.plain(text)
    return talk.Reply(speech, speech, None, pending.as_attributes())


def repeat(handler_input: HandlerInput, *, settings: SkillSettings, back: int) -> talk.Reply:
    now = asked_at(handler_input, settings)
    return follow.repeat_answer(
        session(handler_input), read=reader(settings), tz=settings.timezone, now=now, back=back
    )


def spoken_position(handler_input: HandlerInput) -> int | None:
    """ "The second one" (AMAZON.Ordinal) or "number two" (AMAZON.NUMBER)."""
    slots = handler_input.request_envelope.request.intent.slots or {}
    position = None
    for name in ("position", "number"):
        spoken = slot_choice(slots.get(name)).spoken.strip()
        if spoken.isdigit() and len(spoken) <= 4:
            position = int(spoken)
    return position


def details(handler_input: HandlerInput, *, settings: SkillSettings) -> talk.Reply:
    now = asked_at(handler_input, settings)
    return follow.tell_details(
        session(handler_input),
        spoken_position(handler_input),
        read=reader(settings),
        tz=settings.timezone,
        now=now,
    )


# ------------------------------------------------------------------------------- reminders


def yes_or_reminder(handler_input: HandlerInput, *, settings: SkillSettings) -> Response:
    """ "Yes" to "Want a reminder?" sets it; any other "yes" is answered as before."""
    from villages_sync.skill import reminding

    wish = reminding.offered_wish(session(handler_input))
    if wish is not None:
        return remind_of(handler_input, wish, settings=settings)
    return say(handler_input, yes(handler_input, settings=settings))


def remind(handler_input: HandlerInput, *, settings: SkillSettings) -> Response:
    """ "Remind me about the second one": of the list last read out."""
    from villages_sync.skill import reminding

    now = asked_at(handler_input, settings)
    position = spoken_position(handler_input)
    offered = reminding.offered_wish(session(handler_input))
    if position is None and offered is not None:  # "remind me about it", after its details
        return remind_of(handler_input, offered, settings=settings)
    chosen = follow.chosen_offer(
        session(handler_input),
        position,
        read=reader(settings),
        tz=settings.timezone,
        now=now,
        verb="be reminded of",
    )
    if isinstance(chosen, talk.Reply):
        return say(handler_input, chosen)
    return remind_of(handler_input, reminding.ReminderWish.of_offer(chosen), settings=settings)


def remind_of(
    handler_input: HandlerInput,
    wish: reminding.ReminderWish | None,
    *,
    settings: SkillSettings,
    granted: bool = False,
) -> Response:
    """Set a reminder for ``wish``'s event, once the listener has allowed reminders: without
    the permission, Alexa is asked to ask for it (Connections.SendRequest AskFor)."""
    from villages_sync.skill import reminding

    if settings.reminders_table_name is None or wish is None:
        return say(handler_input, _plain(reminding.NOT_SET_UP))
    now = asked_at(handler_input, settings)
    ready = reminding.ready_reminder(
        wish, read=reader(settings), tz=settings.timezone, now=now, lead=settings.reminder_lead
    )
    if isinstance(ready, talk.Reply):
        return say(handler_input, ready)
    if not (granted or reminders_allowed(handler_input)):
        return ask_for_permission(handler_input, wish)
    from villages_sync.reminders.delivery import DeliveryFailed, Outcome
    from villages_sync.reminders.plan import event_start, reminder_body
    from villages_sync.reminders.records import ReminderRecord

    system = handler_input.request_envelope.context.system
    api = reminders_api(handler_input)
    body = reminder_body(ready.plan, tz=settings.timezone, requested_at=now)
    try:
        outcome, alert_token = api.create(body)
    except DeliveryFailed as error:
        logger.warning("reminder not set", extra={"status": error.status})
        return say(handler_input, _plain(reminding.UNAVAILABLE))
    if outcome is not Outcome.DONE or alert_token is None:
        return permission_refused(handler_input)
    record = ReminderRecord(
        event_id=wish.event_id,
        alert_token=alert_token,
        user_id=str(system.user.user_id),
        lead_minutes=settings.reminder_lead_minutes,
        rings_at=ready.plan.rings_at,
        event_start=event_start(ready.view, settings.timezone),
        title=ready.view.title,
    )
    reminders_table(settings).put(record)
    metrics.add_metric(name="RemindersSet", unit=MetricUnit.Count, value=1)
    reply = reminding.reminder_set(
        ready, lead=settings.reminder_lead, now=now, tz=settings.timezone
    )
    return say(handler_input, reply)


def reminders_allowed(handler_input: HandlerInput) -> bool:
    """The listener has granted the skill the reminders permission (the request says so)."""
    from villages_sync.skill import reminding

    user = handler_input.request_envelope.context.system.user
    scopes = getattr(getattr(user, "permissions", None), "scopes", None) or {}
    status = getattr(scopes.get(reminding.REMINDERS_SCOPE), "status", None)
    return getattr(status, "value", status) == "GRANTED"


def ask_for_permission(handler_input: HandlerInput, wish: reminding.ReminderWish) -> Response:
    """Alexa asks the listener for the reminders permission by voice; its answer comes back
    as Connections.Response, whose token names the event. No speech, no reprompt: Alexa
    speaks, and the session's end is Alexa's to decide."""
    from ask_sdk_model.interfaces.connections import SendRequestDirective
    from villages_sync.skill import reminding

    payload = {
        "@type": "AskForPermissionsConsentRequest",
        "@version": "2",
        "permissionScopes": [
            {"permissionScope": reminding.REMINDERS_SCOPE, "consentLevel": "ACCOUNT"}
        ],
    }
    handler_input.attributes_manager.session_attributes = dict(session(handler_input))
    builder = handler_input.response_builder
    builder.add_directive(
        SendRequestDirective(name="AskFor", payload=payload, token=wish.as_token())
    )
    return builder.response


def permission_answer(handler_input: HandlerInput, *, settings: SkillSettings) -> Response:
    """Connections.Response to AskFor: accepted sets the reminder; refused (or not answered)
    sends the permissions card."""
    from villages_sync.skill import reminding

    request = handler_input.request_envelope.request
    payload = request.payload if isinstance(request.payload, dict) else {}
    wish = reminding.ReminderWish.from_token(request.token)
    if request.name != "AskFor" or wish is None:
        return say(handler_input, _plain(talk.ASK_AGAIN))
    if payload.get("status") == "ACCEPTED":
        return remind_of(handler_input, wish, settings=settings, granted=True)
    return permission_refused(handler_input)


def permission_refused(handler_input: HandlerInput) -> Response:
    from ask_sdk_model.ui import AskForPermissionsConsentCard
    from villages_sync.skill import reminding

    builder = handler_input.response_builder
    builder.speak(talk.Speech.plain(reminding.PERMISSION_REFUSED).ssml)
    builder.ask(talk.Speech.plain(talk.ASK_AGAIN).ssml)
    builder.set_card(AskForPermissionsConsentCard(permissions=[reminding.REMINDERS_SCOPE]))
    return builder.set_should_end_session(False).response


def follow_reminder(handler_input: HandlerInput, *, settings: SkillSettings) -> Response:
    """Messaging.MessageReceived from the RemindersFunction: the reminder follows its event's
    change (Reminders API update with this request's token), once per change. Acknowledged
    with an empty response; a failure raises, and Alexa delivers the message again."""
    from villages_sync.reminders.delivery import Outcome
    from villages_sync.reminders.messages import read_follow_message
    from villages_sync.reminders.plan import reminder_body
    from villages_sync.reminders.records import ReminderStatus

    acknowledged = handler_input.response_builder.response
    try:
        message = read_follow_message(handler_input.request_envelope.request.message)
    except ValueError as error:
        logger.warning("message not read: dropped", extra={"problem": str(error)[:100]})
        return acknowledged
    if settings.reminders_table_name is None:
        return acknowledged
    table = reminders_table(settings)
    record = table.get(message.event_id, message.alert_token)
    if record is None or record.status is not ReminderStatus.SET:
        logger.info("no reminder to follow", extra={"event_id": message.event_id})
        return acknowledged
    if message.change_id in record.applied:
        logger.info("change already followed", extra={"change_id": message.change_id})
        return acknowledged
    api = reminders_api(handler_input)
    now = asked_at(handler_input, settings)
    body = reminder_body(message.plan, tz=settings.timezone, requested_at=now)
    if api.update(message.alert_token, body) is Outcome.REVOKED:
        table.mark_revoked(record)
        metrics.add_metric(name="RemindersRevoked", unit=MetricUnit.Count, value=1)
        return acknowledged
    after = record.applied_change(message.change_id, message.plan.rings_at, message.event_start)
    table.record_applied(record, after, message.change_id)
    metrics.add_metric(name="RemindersUpdated", unit=MetricUnit.Count, value=1)
    logger.info("reminder followed its event", extra={"change_id": message.change_id})
    return acknowledged


# The reminders' adapters and plans are imported when a reminder is set or followed, not at
# the top: a cold start for "what's on" loads none of them (tests/unit/test_handler_imports.py
# keeps the skill's cold imports in check).


def reminders_table(settings: SkillSettings) -> RemindersTable:
    from villages_sync.aws.reminders_table import RemindersTable

    assert settings.reminders_table_name is not None  # checked by the callers
    return RemindersTable(aws_clients().dynamodb, settings.reminders_table_name, settings.timezone)


def reminders_api(handler_input: HandlerInput) -> RemindersApi:
    """The Reminders API with this request's endpoint and token (in session or a message's)."""
    from villages_sync.alexa.apis import RemindersApi
    from villages_sync.alexa.http import UrllibHttp

    system = handler_input.request_envelope.context.system
    return RemindersApi(
        UrllibHttp(), system.api_endpoint, system.api_access_token, sleep=time.sleep
    )


def _plain(text: str) -> talk.Reply:
    return talk.Reply(talk.Speech.plain(text), talk.Speech.plain(talk.ASK_AGAIN))


def look_up(handler_input: HandlerInput, *, settings: SkillSettings) -> talk.Reply:
    slots = handler_input.request_envelope.request.intent.slots or {}
    query = slot_choice(slots.get("query")).spoken[:200]
    logger.info("look-up", extra={"query": query[:LOGGED_SLOT_CHARS]})
    now = asked_at(handler_input, settings)
    return follow.look_up(
        query, read=reader(settings), tz=settings.timezone, now=now, days_ahead=settings.days_ahead
    )


def keeps_list(text: str, *, settings: SkillSettings) -> Answer:
    """Help or a phrase not understood: said, and a list being read stays where it was."""
    reply = talk.Reply(talk.Speech.plain(text), talk.Speech.plain(talk.ASK_AGAIN))

    def answer(handler_input: HandlerInput) -> talk.Reply:
        now = asked_at(handler_input, settings)
        return follow.kept_list(reply, session(handler_input), now=now)

    return answer


def has_screen(handler_input: HandlerInput) -> bool:
    """The device declares Alexa.Presentation.APL (a screenless Echo does not)."""
    device = handler_input.request_envelope.context.system.device
    interfaces = device.supported_interfaces if device is not None else None
    return getattr(interfaces, "alexa_presentation_apl", None) is not None


def session(handler_input: HandlerInput) -> dict[str, Any]:
    return handler_input.attributes_manager.session_attributes or {}


def logged_slots(slots: dict[str, Any]) -> dict[str, str]:
    return {name: choice.spoken[:LOGGED_SLOT_CHARS] for name, choice in slots.items()}


def session_ended(handler_input: HandlerInput) -> talk.Reply | None:
    request = handler_input.request_envelope.request
    logger.info("session ended", extra={"reason": str(request.reason), "error": str(request.error)})
    return None


def fixed(text: str, reprompt: str | None = None) -> Answer:
    speech, again = talk.Speech.plain(text), talk.Speech.plain(reprompt) if reprompt else None
    return lambda handler_input: talk.Reply(speech, again)


def reader(settings: SkillSettings) -> Callable[..., list[dict[str, Any]]]:
    return partial(read_days, EventReads(aws_clients().dynamodb, settings.table_name))


def asked_at(handler_input: HandlerInput, settings: SkillSettings) -> datetime:
    timestamp = handler_input.request_envelope.request.timestamp or datetime.now(UTC)
    return timestamp.astimezone(settings.timezone)


def say(handler_input: HandlerInput, reply: talk.Reply | None) -> Response:
    builder = handler_input.response_builder
    if reply is None:  # SessionEndedRequest: Alexa accepts no speech
        return builder.response
    handler_input.attributes_manager.session_attributes = dict(reply.attributes or {})
    builder.speak(reply.speech.ssml)
    if reply.reprompt is not None:
        builder.ask(reply.reprompt.ssml)
    if reply.card is not None:
        builder.set_card(SimpleCard(title=reply.card.title, content=reply.card.content))
        if reply.card.lines and has_screen(handler_input):
            # Here, not at the top: the APL package imports all of its ~80 model modules (about
            # 20 ms, a sixth of what the handler adds to its floor), which a screenless Echo's
            # cold start never needs (tests/unit/test_handler_imports.py)
            from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

            document = list_document(reply.card.title, reply.card.lines)
            builder.add_directive(
                RenderDocumentDirective(
                    token=document["token"],
                    document=document["document"],
                    datasources=document["datasources"],
                )
            )
    return builder.set_should_end_session(reply.ends_session).response


@lru_cache(maxsize=4)
def skill_handler(settings: SkillSettings) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    builder = SkillBuilder()
    builder.skill_id = settings.skill_id  # the SDK checks it too; lambda_handler first
    builder.add_request_handler(ErrorNotice())
    for names, respond in (
        (("AMAZON.YesIntent",), partial(yes_or_reminder, settings=settings)),
        (("RemindIntent",), partial(remind, settings=settings)),
        (("Connections.Response",), partial(permission_answer, settings=settings)),
        (("Messaging.MessageReceived",), partial(follow_reminder, settings=settings)),
    ):
        builder.add_request_handler(Responds(names, respond))
    for names, answer in (
        (("LaunchRequest",), fixed(talk.WELCOME, talk.ASK_AGAIN)),
        (("WhatsOnIntent",), partial(whats_on, settings=settings)),
        (("RefineIntent",), partial(whats_on, settings=settings, follow_up=True)),
        (("AMAZON.NextIntent",), partial(more, settings=settings)),
        (("AMAZON.NoIntent",), partial(no, settings=settings)),
        (("AMAZON.RepeatIntent",), partial(repeat, settings=settings, back=0)),
        (("AMAZON.PreviousIntent",), partial(repeat, settings=settings, back=1)),
        (("DetailsIntent",), partial(details, settings=settings)),
        (("LookupIntent",), partial(look_up, settings=settings)),
        (("AMAZON.HelpIntent",), keeps_list(talk.HELP, settings=settings)),
        (("AMAZON.StopIntent", "AMAZON.CancelIntent"), fixed(talk.GOODBYE)),
        (("AMAZON.NavigateHomeIntent",), fixed(talk.GOODBYE)),
        (("SessionEndedRequest",), session_ended),
        (("IntentRequest",), keeps_list(talk.FALLBACK, settings=settings)),  # Fallback and the rest
    ):
        builder.add_request_handler(Replies(names, answer))
    builder.add_exception_handler(Apologises())
    return builder.lambda_handler()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = SkillSettings.from_env(os.environ)
    set_log_level(logger, settings.log_level)
    request = event.get("request", {})
    logger.set_correlation_id(request.get("requestId"))
    logger.append_keys(request_type=request.get("type"))
    refusal = request_refusal(settings.skill_id, event)
    if refusal is not None:  # fail closed: an error Lambda counts, logged and counted here too
        logger.warning("request refused", extra={"reason": refusal})
        metrics.add_metric(name="SkillRequestsRefused", unit=MetricUnit.Count, value=1)
        raise RequestRefused(f"Skill ID Verification failed: {refusal}")
    metrics.add_metric(name="SkillRequests", unit=MetricUnit.Count, value=1)
    return skill_handler(settings)(event, context)
