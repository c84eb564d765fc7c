"""The skill's backend end to end: a real sync fills the table (stand-in calendar on 127.0.0.1,
moto over HTTP), then real Alexa request envelopes go through SkillFunction's handler in the
local Lambda runtime, and the speech, card and session it returns are asserted.

The skill's clock is the request's timestamp, fixed by each test on a day chosen from the
calendar (ten days ahead, the next DST change, a weekend across two months): nothing depends on
what today is, beyond the producer's window (DAYS_AHEAD=366 keeps every such day inside it).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest
from support.skill import (
    TZ,
    ask,
    at,
    dst_change,
    month_end_saturday,
    month_spanning_monday,
    raw_event,
    speech_of,
)
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.skill.envelopes import (
    LOCAL_SKILL_ID,
    SCREEN_INTERFACES,
    intent_request,
    launch_request,
    session_ended_request,
    spoken_request,
    whats_on_request,
)
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the skill's answers; its date-index queries run on both backends in test_events_table"
)

SS = "Spanish Springs Town Square"
BW = "Brownwood Paddock Square"
LS = "Lake Sumter Landing Market Square"


def _today() -> date:
    return datetime.now(TZ).date()


def _sync(deployment, events: list[dict]) -> None:
    options = SyncOptions(
        function_log=io.StringIO(),
        extra_env={"DAYS_AHEAD": "366", "BACKOFF_BASE_SECONDS": "0.01"},
    )
    with RunningCalendar(events) as calendar:
        options.calendar_base_url = calendar.base_url
        report = LocalPipeline(deployment, options).run_sync()
    assert report.succeeded, report.producer_error


def _card(response: dict) -> dict:
    return response["response"]["card"]


def _parses_as_xml(ssml: str) -> ET.Element:
    return ET.fromstring(ssml)  # raises on a bare & or <


@pytest.fixture
def evening_day() -> date:
    return _today() + timedelta(days=10)


@pytest.fixture
def evening_at_spanish_springs(deployment, evening_day):
    """Twelve shows at Spanish Springs on one evening (one of them Johnny Wild & The Delights),
    a cancelled one, a morning one, and one at Brownwood."""
    day = evening_day
    shows = [
        raw_event(5000 + n, f"Show {n:02d}", SS, at(day, 17 + n // 2, 30 * (n % 2)))
        for n in range(11)
    ]
    shows.append(raw_event(5011, "Johnny Wild & The Delights", SS, at(day, 19, 15)))
    events = [
        *shows,
        raw_event(5100, "Cancelled Crooners", SS, at(day, 18), cancelled=True),
        raw_event(5101, "Morning Market", SS, at(day, 9), at(day, 11), category="special-events"),
        raw_event(5102, "Brownwood Band", BW, at(day, 18)),
    ]
    _sync(deployment, events)
    return day


def test_skill_tonight_at_spanish_springs_says_first_three_and_pages_to_the_end(
    deployment, evening_at_spanish_springs
):
    # Given twelve shows tonight at Spanish Springs, asked at 4 PM
    now = at(evening_at_spanish_springs, 16)

    # When a listener asks "what's on tonight at Spanish Springs", then says "more" until done
    first = ask(
        deployment, whats_on_request(now=now, venue="spanish springs", part_of_day="tonight")
    )
    pages = [first]
    while pages[-1]["sessionAttributes"].get("pending"):
        attributes = pages[-1]["sessionAttributes"]
        pages.append(
            ask(deployment, intent_request("AMAZON.NextIntent", now=now, attributes=attributes))
        )

    # Then the first answer counts them and reads three, the card lists all twelve, and the
    # fourth page is the last (the cancelled show, the morning market and Brownwood are not said)
    speech = speech_of(first)
    assert speech.startswith(
        "<speak>There are 12 events at Spanish Springs tonight; here are the first 3: "
        "At 5 PM, Show 00. At 5:30 PM, Show 01. At 6 PM, Show 02. Want to hear more?"
    )
    assert first["response"]["shouldEndSession"] is False
    assert "Want to hear more?" in first["response"]["reprompt"]["outputSpeech"]["ssml"]
    card = _card(first)
    assert card["title"] == "12 events at Spanish Springs tonight"
    assert len(card["content"].splitlines()) == 12
    assert (
        "7:15 PM-9:15 PM: Johnny Wild & The Delights (Spanish Springs Town Square)"
        in (card["content"])
    )
    assert len(pages) == 4
    assert speech_of(pages[1]).startswith("<speak>Here are the next 3: At 6:30 PM, Show 03.")
    last = speech_of(pages[3])
    assert last.startswith("<speak>Here are the last 3: ")
    # read to the end, the session stays open for a follow-up ("tomorrow", "the second one")
    assert last.endswith(
        "That's everything tonight. Would you like another day, venue or kind of event?</speak>"
    )
    assert pages[3]["response"]["shouldEndSession"] is False
    assert "pending" not in pages[3]["sessionAttributes"]
    assert pages[3]["sessionAttributes"]["asked"]["offset"] == 12
    said = " ".join(speech_of(page) for page in pages)
    assert said.count("Show ") == 11
    for absent in ("Cancelled Crooners", "Morning Market", "Brownwood Band"):
        assert absent not in said and absent not in card["content"]


def test_skill_ampersand_in_a_title_is_escaped_and_the_ssml_parses(
    deployment, evening_at_spanish_springs
):
    # Given Johnny Wild & The Delights at 7:15 PM, the sixth show of the evening
    now = at(evening_at_spanish_springs, 16)
    first = ask(
        deployment, whats_on_request(now=now, venue="Spanish Springs", part_of_day="evening")
    )

    # When the listener says "more" and hears the second page
    attributes = first["sessionAttributes"]
    second = ask(
        deployment, intent_request("AMAZON.NextIntent", now=now, attributes=attributes, new=False)
    )

    # Then the SSML is well-formed XML and says the title with its ampersand
    speech = speech_of(second)
    assert "At 7:15 PM, Johnny Wild &amp; The Delights." in speech
    root = _parses_as_xml(speech)
    assert "Johnny Wild & The Delights" in "".join(root.itertext())
    assert all(_parses_as_xml(speech_of(r)) is not None for r in (first, second))


def test_skill_tonight_at_9pm_offers_only_what_is_not_over(deployment, evening_at_spanish_springs):
    # Given the shows (two hours each) and a question asked at 9 PM
    now = at(evening_at_spanish_springs, 21)

    # When a listener asks what's on tonight at Spanish Springs
    response = ask(
        deployment, whats_on_request(now=now, venue="spanish springs", part_of_day="tonight")
    )

    # Then shows that ended by 9 PM are gone; those still on are "on now", later ones start
    # (7 PM -> 9 PM is over; 7:15 PM, 7:30 PM ... 10 PM remain: 7 of them)
    speech = speech_of(response)
    assert speech == (
        "<speak>There are 7 events at Spanish Springs tonight; here are the first 3: "
        "On now, until 9:15 PM, Johnny Wild &amp; The Delights. On now, until 9:30 PM, Show 05. "
        "On now, until 10 PM, Show 06. Want to hear more?</speak>"
    )
    assert "Show 04" not in _card(response)["content"]
    assert "10 PM-midnight: Show 10" in _card(response)["content"]


def test_skill_unresolved_venue_names_the_known_venues(deployment, evening_at_spanish_springs):
    # Given a venue Alexa could not resolve (ER_SUCCESS_NO_MATCH)
    now = at(evening_at_spanish_springs, 16)
    envelope = whats_on_request(now=now, venue="the moon base", part_of_day="tonight")
    (authority,) = envelope["request"]["intent"]["slots"]["venue"]["resolutions"][
        "resolutionsPerAuthority"
    ]
    assert authority["status"]["code"] == "ER_SUCCESS_NO_MATCH"

    # When it reaches the handler
    response = ask(deployment, envelope)

    # Then the skill says so, names the venues it knows, and listens for one
    speech = speech_of(response)
    assert "I don't know a venue called the moon base." in speech
    assert "Spanish Springs, Lake Sumter Landing, Brownwood, Sawgrass Grove and Eastport" in speech
    assert response["response"]["shouldEndSession"] is False
    assert "Brownwood Paddock Square" in _card(response)["content"]


def test_skill_empty_evening_at_a_venue_suggests_another_day_or_venue(
    deployment, evening_at_spanish_springs
):
    # Given nothing at Eastport on that day
    now = at(evening_at_spanish_springs, 16)

    # When a listener asks about Eastport tonight
    response = ask(deployment, whats_on_request(now=now, venue="eastport", part_of_day="tonight"))

    # Then the skill says there is nothing, suggests another day or venue, and keeps listening
    assert speech_of(response) == (
        "<speak>I don't see any more events at Eastport tonight. Try tomorrow, or another "
        "venue, such as Spanish Springs or Lake Sumter Landing.</speak>"
    )
    assert response["response"]["shouldEndSession"] is False
    assert "card" not in response["response"]


def test_skill_launch_help_session_end_and_next_without_a_question(deployment):
    # Given an empty table (nothing is read by these requests) and a fixed clock
    now = at(_today() + timedelta(days=3), 12)

    # When a session opens, asks for help and more without a question, and ends
    launch = ask(deployment, launch_request(now=now))
    help_ = ask(deployment, intent_request("AMAZON.HelpIntent", now=now, new=False))
    more = ask(deployment, intent_request("AMAZON.NextIntent", now=now, new=False))
    stop = ask(deployment, intent_request("AMAZON.StopIntent", now=now, new=False))
    ended = ask(deployment, session_ended_request(now=now))

    # Then each answers as a conversation should
    assert "Welcome to Villages Events" in speech_of(launch)
    assert launch["response"]["shouldEndSession"] is False
    assert "say more to hear the next ones" in speech_of(help_)
    assert "nothing more to read" in speech_of(more)
    assert speech_of(stop) == "<speak>Goodbye.</speak>"
    assert stop["response"]["shouldEndSession"] is True
    assert "outputSpeech" not in ended["response"]


def test_skill_with_a_skill_id_rejects_requests_for_another_skill(deployment):
    # Given the function deployed with the skill's id
    now = at(_today() + timedelta(days=3), 12)
    skill_id = "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"
    pipeline = LocalPipeline(
        deployment, SyncOptions(function_log=io.StringIO(), extra_env={"SKILL_ID": skill_id})
    )

    # When a request for its own skill and one for another skill arrive
    own = pipeline.invoke_function("SkillFunction", launch_request(now=now, skill_id=skill_id))
    other = pipeline.invoke_function("SkillFunction", launch_request(now=now))

    # Then only its own is answered
    assert own.succeeded and "Welcome" in speech_of(own.payload)
    assert not other.succeeded
    assert "Skill ID Verification failed" in other.error_text
    assert skill_id != LOCAL_SKILL_ID


def test_skill_weekend_across_a_month_boundary_lists_both_days_in_order(deployment):
    # Given concerts on the Saturday that ends a month and the Sunday that starts the next,
    # and a sports event that weekend
    saturday = month_end_saturday(_today())
    sunday = saturday + timedelta(days=1)
    events = [
        raw_event(6001, "Sunday Swing", LS, at(sunday, 18)),
        raw_event(6002, "Saturday Soul", BW, at(saturday, 19)),
        raw_event(6003, "Saturday Early Set", SS, at(saturday, 16, 30)),
        raw_event(
            6004,
            "Pickleball Open",
            "Saddlebrook Pickleball Complex",
            at(saturday, 9),
            category="sports",
        ),
        raw_event(6005, "Next Monday Jam", SS, at(sunday + timedelta(days=1), 18)),
    ]
    _sync(deployment, events)
    asked_on = saturday - timedelta(days=3)  # a Wednesday: "this weekend"
    iso = saturday.isocalendar()

    # When a listener asks for any shows this weekend ("concerts" now means music only)
    response = ask(
        deployment,
        whats_on_request(
            now=at(asked_on, 10), date_value=f"{iso.year}-W{iso.week:02d}-WE", category="shows"
        ),
    )

    # Then the three concerts are said in day and time order, across the two months
    assert speech_of(response) == (
        "<speak>There are 3 entertainment events this weekend: Saturday at 4:30 PM, Saturday "
        "Early Set at Spanish Springs. Saturday at 7 PM, Saturday Soul at Brownwood. Sunday at "
        "6 PM, Sunday Swing at Lake Sumter Landing. Would you like another day, venue or kind "
        "of event?</speak>"
    )
    content = _card(response)["content"]
    assert content.index(f"Saturday, {saturday:%B} {saturday.day}") < content.index(
        f"Sunday, {sunday:%B} {sunday.day}"
    )
    assert saturday.month != sunday.month
    assert "Pickleball" not in content and "Next Monday" not in content


def test_skill_week_across_a_month_boundary_reads_every_day(deployment):
    # Given one event on each day of a week that ends in the next month, and one just outside
    monday = month_spanning_monday(_today())
    events = [
        raw_event(7000 + n, f"Day {n} Dance", LS, at(monday + timedelta(days=n), 19))
        for n in range(7)
    ]
    events.append(raw_event(7010, "Following Monday", LS, at(monday + timedelta(days=7), 19)))
    _sync(deployment, events)
    iso = monday.isocalendar()

    # When a listener asks (on the Sunday before) what's on at Lake Sumter that week
    response = ask(
        deployment,
        whats_on_request(
            now=at(monday - timedelta(days=1), 20),
            date_value=f"{iso.year}-W{iso.week:02d}",
            venue="lake sumter",
        ),
    )

    # Then all seven are counted, the first three said with their weekdays, all on the card
    speech = speech_of(response)
    assert speech.startswith(
        "<speak>There are 7 events at Lake Sumter Landing next week; here are the first 3: "
        "Tomorrow at 7 PM, Day 0 Dance. Tuesday at 7 PM, Day 1 Dance. "
    )
    content = _card(response)["content"]
    assert [f"Day {n} Dance" in content for n in range(7)] == [True] * 7
    assert "Following Monday" not in content


@pytest.mark.parametrize("spring", [True, False], ids=["spring-forward", "fall-back"])
def test_skill_dst_day_evening_starts_at_5pm_local(deployment, spring):
    # Given, on the day the clocks change, a show from 5 to 5:45 PM and one from 4:15 to 4:45 PM
    day = dst_change(_today(), spring=spring)
    events = [
        raw_event(8001, "Five O'Clock Fiddle", SS, at(day, 17), at(day, 17, 45)),
        raw_event(8002, "Teatime Trio", SS, at(day, 16, 15), at(day, 16, 45)),
        raw_event(8003, "Late Night Blues", SS, at(day, 23), at(day + timedelta(days=1), 0, 30)),
    ]
    _sync(deployment, events)

    # When a listener asks at 10 AM that day what's on tonight at Spanish Springs
    response = ask(
        deployment,
        whats_on_request(now=at(day, 10), venue="spanish springs", part_of_day="tonight"),
    )

    # Then "tonight" is 5 PM local to midnight whatever the offset: the 5 PM show is in and
    # said as 5 PM, the 4:15 one is not (adding hours to midnight would get one of them wrong)
    assert speech_of(response) == (
        "<speak>There are 2 events at Spanish Springs tonight: At 5 PM, Five O'Clock Fiddle. "
        "At 11 PM, Late Night Blues. Would you like another day, venue or kind of event?</speak>"
    )
    assert at(day, 17).utcoffset() != at(day - timedelta(days=1), 17).utcoffset()


def test_skill_multi_day_festival_is_on_every_day_it_spans(deployment):
    # Given an all-day festival from Friday to Sunday and a two-day timed fair
    friday = _today() + timedelta(days=(4 - _today().weekday()) % 7 + 14)
    saturday, sunday = friday + timedelta(days=1), friday + timedelta(days=2)
    events = [
        raw_event(
            9001,
            "Arts & Crafts Festival",
            "Sawgrass Grove",
            friday,
            sunday,
            category="special-events",
        ),
        raw_event(
            9002, "Antique Fair", BW, at(friday, 10), at(saturday, 16), category="special-events"
        ),
        raw_event(9003, "Saturday Concert", BW, at(saturday, 18)),
    ]
    _sync(deployment, events)

    # When a listener asks on the Saturday, and on the Sunday, what's on
    on_saturday = ask(deployment, whats_on_request(now=at(saturday, 8)))
    on_sunday = ask(deployment, whats_on_request(now=at(sunday, 8)))

    # Then both days include the festival, all day; Saturday includes the fair until 4 PM
    assert speech_of(on_saturday) == (
        "<speak>There are 3 events today: All day, Arts &amp; Crafts Festival at Sawgrass Grove. "
        "On now, until 4 PM, Antique Fair at Brownwood. At 6 PM, Saturday Concert at Brownwood. "
        "Would you like another day, venue or kind of event?</speak>"
    )
    assert speech_of(on_sunday) == (
        "<speak>There is one event today: All day, Arts &amp; Crafts Festival at Sawgrass "
        "Grove. Would you like another day, venue or kind of event?</speak>"
    )


def test_skill_conversation_after_a_real_sync_follows_on_and_reads_late_shows(deployment):
    # Given a real sync: a dance at Brownwood from 9 PM to 12:30 AM, and two shows there the
    # next evening (one of them described)
    day = _today() + timedelta(days=12)
    after = day + timedelta(days=1)
    events = [
        raw_event(9101, "Moonlight Dance", BW, at(day, 21), at(after, 0, 30)),
        raw_event(9102, "Early Show", BW, at(after, 17)),
        {**raw_event(9103, "Late Show", BW, at(after, 19)), "description": "Doo-wop classics."},
    ]
    _sync(deployment, events)

    # When a resident on a device with a screen asks at 12:10 AM what's on at Brownwood, then
    # says "tonight", then asks about the second one
    now = at(after, 0, 10)
    first = ask(deployment, _with_screen(whats_on_request(now=now, venue="brownwood")))
    tonight = ask(
        deployment,
        _with_screen(
            spoken_request(
                "RefineIntent",
                now=now,
                spoken={"partOfDay": "tonight"},
                attributes=first["sessionAttributes"],
            )
        ),
    )
    second = ask(
        deployment,
        spoken_request(
            "DetailsIntent",
            now=now,
            spoken={"position": "2"},
            attributes=tonight["sessionAttributes"],
        ),
    )

    # Then the dance is still on after midnight, "tonight" keeps Brownwood, the details are
    # the calendar's, and the screen shows the list
    assert speech_of(first).startswith(
        "<speak>There are 3 events at Brownwood today: On now, until 12:30 AM, Moonlight Dance."
    )
    assert speech_of(tonight).startswith(
        "<speak>There are 2 events at Brownwood tonight: At 5 PM, Early Show. At 7 PM, Late Show."
    )
    assert "Late Show is today, from 7 PM to 9 PM at Brownwood Paddock Square." in speech_of(second)
    assert "Doo-wop classics." in speech_of(second)
    (directive,) = tonight["response"]["directives"]
    assert directive["type"] == "Alexa.Presentation.APL.RenderDocument"
    assert "directives" not in second["response"] or not second["response"]["directives"]


def _with_screen(envelope: dict) -> dict:
    envelope["context"]["System"]["device"]["supportedInterfaces"] = dict(SCREEN_INTERFACES)
    return envelope
