"""SkillFunction: the Alexa skill's backend (AlexaSkill event), built with the ASK SDK.

Thin: each request handler turns the request into plain values and says the Reply that
``villages_sync.skill.conversation`` composes. Reads go through ``EventReads.events_on`` (the
date and multi-day indexes, Queries only). The moment of asking is the request's timestamp.
Session attributes come from the device: the conversation module validates them. Devices that
declare a screen get the answer's list as APL (``villages_sync.skill.screen``).
"""

from __future__ import annotations

import os
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

if TYPE_CHECKING:  # a type only: Lambda passes its own context object
    from aws_lambda_powertools.utilities.typing import LambdaContext

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
        return True

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


def details(handler_input: HandlerInput, *, settings: SkillSettings) -> talk.Reply:
    slots = handler_input.request_envelope.request.intent.slots or {}
    position = None
    for name in ("position", "number"):
        spoken = slot_choice(slots.get(name)).spoken.strip()
        if spoken.isdigit() and len(spoken) <= 4:
            position = int(spoken)
    now = asked_at(handler_input, settings)
    return follow.tell_details(
        session(handler_input), position, read=reader(settings), tz=settings.timezone, now=now
    )


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
    for names, answer in (
        (("LaunchRequest",), fixed(talk.WELCOME, talk.ASK_AGAIN)),
        (("WhatsOnIntent",), partial(whats_on, settings=settings)),
        (("RefineIntent",), partial(whats_on, settings=settings, follow_up=True)),
        (("AMAZON.NextIntent",), partial(more, settings=settings)),
        (("AMAZON.YesIntent",), partial(yes, settings=settings)),
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
