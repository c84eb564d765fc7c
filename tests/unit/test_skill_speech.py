"""How the skill says things (pure): times, timeframes, SSML escaping, paging, the card, limits,
and slots read from the ASK SDK's own model objects."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, time, timedelta

import pytest
from ask_sdk_model import Slot
from ask_sdk_model.slu.entityresolution import (
    Resolution as SdkResolution,
)
from ask_sdk_model.slu.entityresolution import (
    Resolutions,
    Status,
    StatusCode,
    Value,
    ValueWrapper,
)
from support.skill import TZ, at, raw_event
from villages_sync.models import DateWindow
from villages_sync.normalise import normalise_event
from villages_sync.skill import conversation as talk
from villages_sync.skill.dates import AskedDays, DateProblem, RangeKind
from villages_sync.skill.slots import Resolution, SlotChoice, slot_choice
from villages_sync.skill.speech import (
    MAX_CARD_CHARS,
    MAX_SPEECH_CHARS,
    Speech,
    fit_card,
    say_time,
    say_when,
    ssml_document,
)
from villages_sync.skill.timeframe import PartOfDay

TODAY = date(2026, 11, 25)  # a Wednesday
SS = "Spanish Springs Town Square"


def day(offset: int = 0, kind: RangeKind = RangeKind.DAY, length: int = 0) -> AskedDays:
    first = TODAY + timedelta(days=offset)
    return AskedDays(first, first + timedelta(days=length), kind, first)


@pytest.mark.parametrize(
    ("clock", "said"),
    [
        (time(19), "7 PM"),
        (time(19, 30), "7:30 PM"),
        (time(12), "noon"),
        (time(0), "midnight"),
        (time(0, 15), "12:15 AM"),
        (time(9, 5), "9:05 AM"),
        (time(12, 45), "12:45 PM"),
    ],
)
def test_say_time_as_a_listener_says_it(clock, said):
    assert say_time(clock) == said


@pytest.mark.parametrize(
    ("days", "part", "said"),
    [
        (day(), None, "today"),
        (day(), PartOfDay.EVENING, "tonight"),
        (day(), PartOfDay.MORNING, "this morning"),
        (day(), PartOfDay.NOW, "right now"),
        (day(1), PartOfDay.AFTERNOON, "tomorrow afternoon"),
        (day(3), None, "on Saturday"),
        (day(3), PartOfDay.EVENING, "on Saturday evening"),
        (day(10), None, "on Saturday, December 5th"),
        (day(10), PartOfDay.EVENING, "on Saturday, December 5th, in the evening"),
        (
            AskedDays(TODAY, TODAY + timedelta(4), RangeKind.WEEK, TODAY - timedelta(2)),
            None,
            "this week",
        ),
        (day(5, RangeKind.WEEK, 6), None, "next week"),
        (day(12, RangeKind.WEEK, 6), None, "the week of December 7th"),
        (day(3, RangeKind.WEEKEND, 1), None, "this weekend"),
        (day(3, RangeKind.WEEKEND, 1), PartOfDay.EVENING, "this weekend, in the evenings"),
        (day(10, RangeKind.WEEKEND, 1), None, "next weekend"),
        (day(17, RangeKind.WEEKEND, 1), None, "the weekend of December 12th"),
        (day(0, RangeKind.MONTH, 5), None, "this month"),
        (day(6, RangeKind.MONTH, 30), None, "next month"),
        (day(37, RangeKind.MONTH, 30), None, "in January 2027"),
    ],
)
def test_say_when_names_the_timeframe(days, part, said):
    assert say_when(days, part, TODAY) == said


def stored(raw: dict) -> dict:
    window = DateWindow(TODAY, TODAY + timedelta(days=90))
    return normalise_event(raw, tz=TZ, window=window, last_updated=0)


def answer(question: talk.Question, items, *, now, offset=0):
    return talk.answer_question(question, read=lambda days: items, now=now, tz=TZ, offset=offset)


def test_answer_escapes_ssml_and_the_document_parses():
    # (the normaliser strips tags from titles; the skill must not rely on it)
    item = stored(raw_event(1, "placeholder", SS, at(TODAY, 19)))
    items = [{**item, "title": "Johnny Wild & The Delights <live> > all"}]

    reply = answer(talk.Question(day()), items, now=at(TODAY, 8))

    document = ssml_document(reply.speech)
    root = ET.fromstring(document)
    assert "".join(root.itertext()) == reply.speech.text
    assert "Johnny Wild & The Delights <live> > all" in reply.speech.text
    assert "&amp;" in document and "&lt;live&gt;" in document
    assert reply.card.content == "7 PM-9 PM: Johnny Wild & The Delights <live> > all (" + SS + ")"
    # the question stays in the session for a follow-up ("tomorrow", "tell me about it")
    assert not reply.ends_session and reply.speech.text.endswith("?")


def test_answer_pages_keep_the_question_not_the_answers():
    items = [stored(raw_event(n, f"Show {n}", SS, at(TODAY, 17 + n))) for n in range(5)]
    question = talk.Question(day(), PartOfDay.EVENING, None, None)

    first = answer(question, items, now=at(TODAY, 16))
    second = talk.continue_answer(first.attributes, read=lambda days: items, tz=TZ)

    assert first.speech.text.startswith("There are 5 events tonight; here are the first 3: ")
    assert first.attributes == {
        "pending": {
            "question": question.as_attributes(),
            "asked_at": at(TODAY, 16).isoformat(),
            "offset": 3,
        }
    }
    assert second.speech.text == (
        "Here are the last 2: At 8 PM, Show 3 at Spanish Springs. At 9 PM, Show 4 at Spanish "
        "Springs. That's everything tonight. Would you like another day, venue or kind of event?"
    )
    # read to the end, the question stays for a follow-up; the page said is kept for "repeat"
    assert second.attributes["asked"]["said"] == 3 and second.card is None


def test_answer_speech_stays_within_alexas_limit_and_the_card_within_its_own():
    long_title = "Very Long Title " * 12  # 192 characters
    items = [
        stored(raw_event(n, f"{long_title}{n}", SS, at(TODAY + timedelta(days=n % 28), 19)))
        for n in range(400)
    ]
    question = talk.Question(day(0, RangeKind.MONTH, 28))

    reply = answer(question, items, now=at(TODAY, 8), offset=0)

    assert len(ssml_document(reply.speech)) <= MAX_SPEECH_CHARS
    assert len(reply.card.title) + len(reply.card.content) <= MAX_CARD_CHARS
    assert reply.card.content.splitlines()[-1].startswith("... and ")
    assert len(ssml_document(talk.Reply(Speech.plain("x" * 9000)).speech)) > MAX_SPEECH_CHARS
    assert fit_card("t", ["a: b"] * 3) == "a: b\na: b\na: b"


def test_answer_empty_day_suggests_another_day():
    reply = answer(talk.Question(day(2)), [], now=at(TODAY, 8))

    assert reply.speech.text == (
        "I don't see any events on Friday. Try another day, such as tomorrow or this weekend."
    )
    assert not reply.ends_session


@pytest.mark.parametrize(
    ("problem", "words"),
    [
        (DateProblem.PAST, "I only know what's coming up"),
        (DateProblem.TOO_BROAD, "That's a long time"),
        (DateProblem.UNCLEAR, "a day, a week, a weekend or a month"),
        ("category", "I don't know the kind of event knitting"),
    ],
)
def test_not_understood_says_what_can_be_asked(problem, words):
    reply = talk.not_understood(talk.NotUnderstood(problem, "knitting"))

    assert words in reply.speech.text
    assert not reply.ends_session


def _sdk_slot(name: str, value: str, code: StatusCode, value_id: str | None = None) -> Slot:
    values = [ValueWrapper(value=Value(name="Brownwood Paddock Square", id=value_id))]
    authority = SdkResolution(
        authority="amzn1.er-authority.echo-sdk.x.VENUE",
        status=Status(code=code),
        values=values if value_id else None,
    )
    return Slot(
        name=name, value=value, resolutions=Resolutions(resolutions_per_authority=[authority])
    )


def test_slot_choice_reads_the_sdks_entity_resolution():
    matched = slot_choice(_sdk_slot("venue", "brownwood", StatusCode.ER_SUCCESS_MATCH, "BROWNWOOD"))
    unmatched = slot_choice(_sdk_slot("venue", "the moon", StatusCode.ER_SUCCESS_NO_MATCH))
    timed_out = slot_choice(_sdk_slot("venue", "Brownwood", StatusCode.ER_ERROR_TIMEOUT))

    assert matched == SlotChoice("brownwood", "BROWNWOOD", Resolution.MATCH)
    assert unmatched == SlotChoice("the moon", None, Resolution.NO_MATCH)
    assert slot_choice(None) == SlotChoice()
    assert slot_choice(Slot(name="date", value="2026-11-25")) == SlotChoice("2026-11-25")
    # understood: by id, not at all after NO_MATCH, by our own words after an ER error
    asked = {"venue": matched, "partOfDay": SlotChoice("tonight")}
    question = talk.understand(asked, today=TODAY)
    assert question.venue.id == "BROWNWOOD" and question.part is PartOfDay.EVENING
    assert talk.understand({"venue": unmatched}, today=TODAY) == talk.NotUnderstood(
        "venue", "the moon"
    )
    assert talk.understand({"venue": timed_out}, today=TODAY).venue.id == "BROWNWOOD"
