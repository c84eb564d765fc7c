"""Conversations with the skill, as a resident of The Villages has them (issue 19).

Each test is a resident's turns in and what Alexa says and shows out: real Alexa envelopes
through the real ASK SDK skill (``skill.skill_handler``), the session attributes carried from
turn to turn as Alexa carries them, and the table's items made by the real normaliser from
calendar events (``support.skill.Resident``). Every reply that keeps the session open must ask
or instruct (``converse`` checks it on every turn).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta

import pytest
from support.skill import SS, ItemsTable, Resident, at, raw_event, stored
from villages_sync.skill import conversation as talk
from villages_sync.skill.speech import MAX_SPEECH_CHARS

LS = "Lake Sumter Landing Market Square"
BW = "Brownwood Paddock Square"
PARADISE = "Paradise Recreation Center"
NEW_YEARS_EVE = date(2026, 12, 31)  # a Thursday
SATURDAY = date(2027, 1, 9)
SUNDAY = date(2027, 1, 10)
FRIDAY = date(2027, 1, 8)
_ASKS_OR_INSTRUCTS = re.compile(r"(\?|\b(say|try|ask)\b[^.?!]*\.?)$", re.IGNORECASE)


def converse(resident: Resident, turns: list[tuple]) -> list:
    """Plays ``(intent, slots, said, not said)`` turns; ``said`` fragments must all be in the
    speech (in the card when a fragment starts with "card:"), ``not said`` none of them."""
    replies = []
    for intent, slots, said, not_said in turns:
        turn = resident.opens() if intent == "open" else resident.says(intent, **slots)
        for fragment in said:
            where = turn.card or "" if fragment.startswith("card:") else turn.said
            assert fragment.removeprefix("card:") in where, (intent, slots, turn.said, turn.card)
        for fragment in not_said:
            where = turn.card or "" if fragment.startswith("card:") else turn.said
            assert fragment.removeprefix("card:") not in where, (intent, slots, turn.said)
        if not turn.ends:  # an open session must ask or instruct, in speech and reprompt
            assert _ASKS_OR_INSTRUCTS.search(turn.said.strip()), turn.said
            assert turn.reprompt and _ASKS_OR_INSTRUCTS.search(turn.reprompt.strip())
        assert len(turn.ssml) <= MAX_SPEECH_CHARS
        replies.append(turn)
    return replies


def items_of(*raws: dict, today: date) -> list[dict]:
    return [stored(raw, today) for raw in raws]


# ------------------------------------------------------------------------------ wrong answers


def test_conversation_a_dance_past_midnight_is_on_before_and_after_midnight():
    # Given a dance from 9 PM to 12:30 AM at Lake Sumter
    dance = raw_event(1, "Moonlight Dance", LS, at(SATURDAY, 21), at(SUNDAY, 0, 30))
    items = items_of(dance, today=SATURDAY)

    # When a resident asks "what's on now" at 11:50 PM, and again at 12:10 AM
    for now in (at(SATURDAY, 23, 50), at(SUNDAY, 0, 10)):
        converse(
            Resident(items, now=now),
            [
                (
                    "WhatsOnIntent",
                    {"date": "PRESENT_REF"},
                    ["On now, until 12:30 AM, Moonlight Dance at Lake Sumter Landing."],
                    ["I don't see"],
                )
            ],
        )
    # Then both times the dance is on; at 12:40 AM it is over
    converse(
        Resident(items, now=at(SUNDAY, 0, 40)),
        [("WhatsOnIntent", {"date": "PRESENT_REF"}, ["I don't see any"], ["Moonlight"])],
    )


def test_conversation_tonight_on_new_years_eve_runs_into_the_small_hours():
    new_year = NEW_YEARS_EVE + timedelta(days=1)
    items = items_of(
        raw_event(1, "Countdown Band", LS, at(NEW_YEARS_EVE, 21), at(new_year, 0, 30)),
        raw_event(2, "Fireworks", LS, at(new_year, 0), at(new_year, 0, 20)),
        raw_event(3, "New Year Brunch", LS, at(new_year, 10)),
        today=NEW_YEARS_EVE,
    )

    converse(
        Resident(items, now=at(NEW_YEARS_EVE, 20)),
        [
            (
                "WhatsOnIntent",
                {"venue": "lake sumter", "partOfDay": "tonight"},
                [
                    "There are 2 events at Lake Sumter Landing tonight",
                    "At 9 PM, Countdown Band.",
                    "At midnight, Fireworks.",
                    "card:Midnight-12:20 AM: Fireworks",
                ],
                ["Brunch"],
            )
        ],
    )


@pytest.mark.parametrize("days_ahead", [90, 30])
def test_conversation_past_the_sync_window_says_how_far_ahead_it_knows(days_ahead):
    today = SATURDAY
    asked = today + timedelta(days=120)
    horizon = today + timedelta(days=days_ahead)

    converse(
        Resident([], now=at(today, 10), days_ahead=days_ahead),
        [
            (
                "WhatsOnIntent",
                {"date": asked.isoformat()},
                [
                    f"I only know the calendar {days_ahead} days ahead, up to "
                    f"{horizon:%A}, {horizon:%B} {horizon.day}",
                    "Which day before then would you like?",
                ],
                ["I don't see any"],
            ),
            # a one-word answer keeps the rest of the question
            ("RefineIntent", {"date": "tomorrow"}, ["I don't see any events tomorrow"], []),
        ],
    )


def test_conversation_a_month_running_past_the_window_says_where_its_knowledge_ends():
    today = date(2027, 1, 20)
    converse(
        Resident([], now=at(today, 10), days_ahead=30),
        [
            (
                "WhatsOnIntent",
                {"date": "2027-02"},
                [
                    "I don't see any events next month. I know the calendar 30 days ahead, up "
                    "to Friday, February 19th. Try another day",
                ],
                [],
            )
        ],
    )


def _sports_and_shows(day: date) -> list[dict]:
    return items_of(
        raw_event(
            1,
            "Pickleball Open Play",
            "Saddlebrook Pickleball Complex",
            at(day, 9),
            category="sports",
        ),
        raw_event(
            2,
            "Shuffleboard Tournament",
            "Saddlebrook Pickleball Complex",
            at(day, 10),
            category="sports",
        ),
        raw_event(
            3,
            "Executive Golf Scramble",
            "Churchill Greens Executive Golf Course",
            at(day, 11),
            category="sports",
        ),
        raw_event(4, "Holiday Parade", SS, day, category="special-events"),
        raw_event(5, "Arts Fair", SS, day, category="special-events"),
        raw_event(6, "Antique Fair", BW, day, category="special-events"),
        {**raw_event(7, "Neon Jukebox", SS, at(day, 18)), "subcategories": ["classic-rock"]},
        raw_event(8, "Karaoke Night", BW, at(day, 19), category="entertainment"),
        raw_event(9, "Magic Show", LS, at(day, 19), category="entertainment"),
        raw_event(10, "Gator Bay Band", LS, at(day, 20), category="entertainment"),
        today=day,
    )


@pytest.mark.parametrize(
    ("word", "date_words", "said", "not_said"),
    [
        (
            "golf",
            None,
            ["There is one golf event today: At 11 AM, Executive Golf Scramble"],
            ["Pickleball", "Shuffleboard"],
        ),
        (
            "parades",
            "this weekend",
            ["one parade this weekend", "Holiday Parade"],
            ["Arts Fair", "Antique Fair"],
        ),
        (
            "concerts",
            None,
            ["There are 2 concerts today", "Neon Jukebox", "Gator Bay Band"],
            ["Karaoke", "Magic", "entertainment events"],
        ),
        ("sports", None, ["3 sports events today"], ["Neon Jukebox"]),
    ],
)
def test_conversation_a_narrow_word_narrows_and_is_said_back(word, date_words, said, not_said):
    items = _sports_and_shows(SATURDAY)
    slots = {"category": word, "date": date_words}

    converse(Resident(items, now=at(SATURDAY, 8)), [("WhatsOnIntent", slots, said, not_said)])


def test_conversation_a_recreation_center_by_its_short_name():
    items = items_of(raw_event(1, "Line Dancing Class", PARADISE, at(SATURDAY, 9)), today=SATURDAY)

    converse(
        Resident(items, now=at(SATURDAY, 8)),
        [
            (
                "WhatsOnIntent",
                {"venue": "paradise rec center"},
                ["There is one event at Paradise today: At 9 AM, Line Dancing Class."],
                ["I don't know a venue"],
            )
        ],
    )


def test_conversation_an_all_day_fair_is_on_in_the_day_not_at_night():
    items = items_of(
        raw_event(1, "Craft Fair", SS, SATURDAY, category="special-events"),
        raw_event(2, "Late Band", SS, at(SATURDAY, 22), at(SUNDAY, 1)),
        today=SATURDAY,
    )

    converse(
        Resident(items, now=at(SATURDAY, 23, 30)),
        [
            (
                "WhatsOnIntent",
                {"date": "PRESENT_REF"},
                ["On now, until 1 AM, Late Band"],
                ["Craft Fair"],
            )
        ],
    )
    converse(
        Resident(items, now=at(SATURDAY, 10)),
        [("WhatsOnIntent", {"date": "PRESENT_REF"}, ["All day, Craft Fair"], ["Late Band"])],
    )


def test_conversation_an_event_without_an_end_is_never_given_one():
    # Given a show the calendar gives no real end for (its end is its start)
    raw = raw_event(1, "Open Mic", SS, at(SATURDAY, 19), at(SATURDAY, 19))

    converse(
        Resident(items_of(raw, today=SATURDAY), now=at(SATURDAY, 19, 30)),
        [
            (
                "WhatsOnIntent",
                {"date": "PRESENT_REF"},
                ["Started at 7 PM, Open Mic", "card:7 PM: Open Mic"],
                ["until 8 PM", "7 PM-8 PM"],
            )
        ],
    )


def test_conversation_this_week_on_a_sunday_means_the_coming_days():
    items = items_of(
        raw_event(1, "Wednesday Band", SS, at(SUNDAY + timedelta(days=3), 18)), today=SUNDAY
    )

    converse(
        Resident(items, now=at(SUNDAY, 9)),
        [("WhatsOnIntent", {"date": "this week"}, ["Wednesday at 6 PM, Wednesday Band"], [])],
    )


def test_conversation_this_weekend_on_a_friday_includes_friday_evening_and_says_so():
    items = items_of(
        raw_event(1, "Friday Coffee", SS, at(FRIDAY, 10)),
        raw_event(2, "Friday Night Band", SS, at(FRIDAY, 19)),
        raw_event(3, "Saturday Band", SS, at(SATURDAY, 19)),
        today=FRIDAY,
    )

    converse(
        Resident(items, now=at(FRIDAY, 8)),
        [
            (
                "WhatsOnIntent",
                {"date": "this weekend"},
                [
                    "2 events this weekend, from Friday evening",
                    "Today at 7 PM, Friday Night Band",
                    "Saturday Band",
                ],
                ["Friday Coffee"],
            )
        ],
    )


@pytest.mark.parametrize(
    ("slot", "word", "explained"),
    [
        ("partOfDay", "late", "I don't know the time of day late."),
        ("venue", "the moon", "I don't know a venue called the moon."),
        ("category", "knitting", "I don't know the kind of event knitting."),
    ],
)
def test_conversation_every_unmatched_word_is_explained_alike(slot, word, explained):
    converse(
        Resident([], now=at(SATURDAY, 8)),
        [("WhatsOnIntent", {slot: word}, [explained], ["I don't see any"])],
    )


@pytest.mark.parametrize(
    ("date_words", "not_suggested"),
    [
        ("tomorrow", "such as tomorrow"),
        ("this weekend", "or this weekend"),
        ("next week", "or next week"),
    ],
)
def test_conversation_an_empty_day_never_suggests_the_day_just_asked(date_words, not_suggested):
    converse(
        Resident([], now=at(FRIDAY - timedelta(days=2), 9)),  # a Wednesday
        [
            (
                "WhatsOnIntent",
                {"date": date_words},
                ["I don't see any events", "Try another day"],
                [not_suggested, not_suggested.replace("or ", "such as ")],
            )
        ],
    )


def test_conversation_one_show_listed_twice_is_said_once():
    items = items_of(
        raw_event(1, "Johnny Blue & The Tailfins", SS, at(SATURDAY, 18), at(SATURDAY, 22)),
        raw_event(2, "Johnny Blue & The Tailfins", SS, at(SATURDAY, 18), at(SATURDAY, 22)),
        today=SATURDAY,
    )

    (turn,) = converse(
        Resident(items, now=at(SATURDAY, 9)),
        [("WhatsOnIntent", {}, ["There is one event today"], [])],
    )
    assert turn.said.count("Tailfins") == 1 and turn.card.count("Tailfins") == 1


# ------------------------------------------------------------------------------ conversation


def _evening(day: date, count: int, venue: str = BW) -> list[dict]:
    return [
        raw_event(100 + n, f"Show {n:02d}", venue, at(day, 17, 0) + timedelta(minutes=20 * n))
        for n in range(count)
    ]


def test_conversation_one_word_answers_keep_the_earlier_question():
    items = items_of(
        *_evening(SATURDAY, 2, BW),
        raw_event(50, "Spanish Springs Show", SS, at(SATURDAY, 19)),
        raw_event(51, "Brownwood Karaoke", BW, at(SATURDAY, 21)),
        raw_event(52, "Today Band", BW, at(FRIDAY, 19), category="entertainment"),
        today=FRIDAY,
    )
    items[1]["subcategories"] = ["classic-rock"]  # Show 01 is a concert

    converse(
        Resident(items, now=at(FRIDAY, 9)),
        [
            ("open", {}, ["Welcome"], []),
            ("RefineIntent", {"date": "tomorrow"}, ["4 events tomorrow"], []),
            (
                "WhatsOnIntent",
                {"venue": "brownwood"},
                ["one event at Brownwood today", "Today Band"],
                [],
            ),
            (
                "RefineIntent",
                {"date": "tomorrow"},
                ["3 events at Brownwood tomorrow"],
                ["Spanish Springs Show"],
            ),
            (
                "RefineIntent",
                {"category": "concerts"},
                ["one concert at Brownwood tomorrow", "Show 01"],
                ["Karaoke"],
            ),
        ],
    )


def test_conversation_an_unknown_venue_then_a_known_one_answers_the_first_question():
    items = items_of(*_evening(SATURDAY, 1, BW), today=FRIDAY)

    converse(
        Resident(items, now=at(FRIDAY, 9)),
        [
            (
                "WhatsOnIntent",
                {"venue": "the moon", "date": "tomorrow"},
                ["I don't know a venue called the moon", "Which venue would you like?"],
                [],
            ),
            (
                "RefineIntent",
                {"venue": "brownwood"},
                ["one event at Brownwood tomorrow: At 5 PM, Show 00."],
                [],
            ),
        ],
    )


def test_conversation_a_big_list_offers_to_narrow_first():
    items = items_of(
        *[
            raw_event(
                200 + n,
                f"Club {n:02d}",
                PARADISE,
                at(SATURDAY, 8) + timedelta(minutes=30 * n),
                category="social-clubs",
            )
            for n in range(12)
        ],
        *_evening(SATURDAY, 5, BW),
        today=SATURDAY,
    )

    first, _narrowed = converse(
        Resident(items, now=at(SATURDAY, 7)),
        [
            (
                "WhatsOnIntent",
                {},
                [
                    "There are 17 events today. The town squares have 5 of them. "
                    "Shall I read those, or would you like a kind of event"
                ],
                ["Club 00"],
            ),
            (
                "AMAZON.YesIntent",
                {},
                ["5 events at the town squares today", "At 5 PM, Show 00 at Brownwood"],
                ["Club"],
            ),
        ],
    )
    assert "Show 00" not in first.said  # nothing read before the listener chooses
    assert len(first.card.splitlines()) == 17  # the card has them all

    resident = Resident(items, now=at(SATURDAY, 7))
    converse(
        resident,
        [
            ("WhatsOnIntent", {}, ["Shall I read those"], []),
            (
                "AMAZON.NextIntent",
                {},
                ["There are 17 events today; here are the first 3: At 8 AM, Club 00"],
                [],
            ),
        ],
    )
    resident = Resident(items, now=at(SATURDAY, 7))
    converse(
        resident,
        [
            ("WhatsOnIntent", {}, ["Shall I read those"], []),
            ("AMAZON.NoIntent", {}, ["Which kind of event, venue or time of day"], ["Goodbye"]),
            ("RefineIntent", {"category": "clubs"}, ["12 club meetings today"], []),
        ],
    )


def test_conversation_help_or_an_unknown_phrase_mid_list_keeps_the_list():
    items = items_of(*_evening(SATURDAY, 5), today=SATURDAY)

    converse(
        Resident(items, now=at(SATURDAY, 9)),
        [
            ("WhatsOnIntent", {"partOfDay": "tonight"}, ["here are the first 3"], []),
            (
                "AMAZON.HelpIntent",
                {},
                [
                    "I read The Villages' community calendar",
                    "Say more to hear the rest of the list",
                ],
                [],
            ),
            ("AMAZON.FallbackIntent", {}, ["Sorry, I can only tell you", "Say more"], []),
            ("AMAZON.NextIntent", {}, ["Here are the last 2: At 6 PM, Show 03"], ["nothing more"]),
        ],
    )


def test_conversation_repeat_and_go_back():
    items = items_of(*_evening(SATURDAY, 8), today=SATURDAY)

    first, second, again, back = converse(
        Resident(items, now=at(SATURDAY, 9)),
        [
            ("WhatsOnIntent", {"partOfDay": "tonight"}, ["At 5 PM, Show 00"], []),
            ("AMAZON.NextIntent", {}, ["Here are the next 3: At 6 PM, Show 03"], []),
            ("AMAZON.RepeatIntent", {}, ["Here are the next 3: At 6 PM, Show 03"], []),
            ("AMAZON.PreviousIntent", {}, ["here are the first 3: At 5 PM, Show 00"], []),
        ],
    )
    assert again.said == second.said
    assert back.said == first.said


def test_conversation_after_the_whole_list_yes_asks_and_no_says_goodbye():
    items = items_of(*_evening(SATURDAY, 2), today=SATURDAY)

    converse(
        Resident(items, now=at(SATURDAY, 9)),
        [
            ("WhatsOnIntent", {}, ["There are 2 events today", "another day, venue or kind"], []),
            ("AMAZON.YesIntent", {}, ["Which day, venue or kind of event would you like?"], []),
            ("RefineIntent", {"date": "tomorrow"}, ["I don't see any events tomorrow"], []),
            ("AMAZON.NoIntent", {}, ["Goodbye."], []),
        ],
    )


def test_conversation_tell_me_about_the_second_one():
    raws = _evening(SATURDAY, 4)
    raws[1]["description"] = "Motown hits all night. Tickets $5 at the door."
    items = items_of(*raws, today=SATURDAY)

    converse(
        Resident(items, now=at(SATURDAY, 9)),
        [
            ("WhatsOnIntent", {"partOfDay": "tonight"}, ["At 5:20 PM, Show 01"], []),
            (
                "DetailsIntent",
                {"position": "2"},
                [
                    "Show 01 is today, from 5:20 PM to 7:20 PM at Brownwood Paddock Square.",
                    "Motown hits all night. Tickets $5 at the door.",
                    "Say more for the rest",
                ],
                [],
            ),
            ("AMAZON.NextIntent", {}, ["Here is the last one: At 6 PM, Show 03"], []),
        ],
    )


def test_conversation_whats_on_at_seven():
    items = items_of(
        raw_event(1, "Morning Walk", SS, at(SATURDAY, 7)),
        raw_event(2, "Evening Band", SS, at(SATURDAY, 19)),
        raw_event(3, "Sunset Show", SS, at(SATURDAY, 18), at(SATURDAY, 20)),
        raw_event(4, "Late Show", SS, at(SATURDAY, 21)),
        today=SATURDAY,
    )

    converse(
        Resident(items, now=at(SATURDAY, 9)),  # 7 in the morning is over: 7 PM is meant
        [
            (
                "WhatsOnIntent",
                {"time": "07:00"},
                ["2 events at 7 PM today", "Evening Band", "Sunset Show"],
                ["Morning Walk", "Late Show"],
            )
        ],
    )


def test_conversation_look_up_by_title_answers_cancelled_and_moved_honestly():
    items = items_of(
        {
            **raw_event(4, "Soul Shakers", SS, at(SATURDAY, 16)),
            "description": "A classic dance band.",
        },
        raw_event(
            1,
            "Line Dancing Class",
            PARADISE,
            at(SATURDAY + timedelta(days=3), 9),
            category="recreation",
        ),
        raw_event(2, "Saturday Concert", SS, at(SATURDAY, 19), cancelled=True),
        raw_event(3, "Bingo Night (Rescheduled)", BW, at(SATURDAY, 20)),
        today=SATURDAY,
    )

    converse(
        Resident(items, now=at(SATURDAY, 9)),
        [
            (
                "LookupIntent",
                {"query": "line dancing"},
                ["Line Dancing Class is on Tuesday, January 12th at 9 AM at Paradise."],
                ["Soul Shakers"],  # a dance band is not line dancing
            ),
            (
                "LookupIntent",
                {"query": "Saturday concert"},
                ["Saturday Concert today at 7 PM at Spanish Springs is cancelled."],
                [],
            ),
            (
                "LookupIntent",
                {"query": "bingo"},
                ["listed as changed: it's now today at 8 PM at Brownwood"],
                [],
            ),
            (
                "LookupIntent",
                {"query": "water polo"},
                ["I don't see water polo in the calendar"],
                [],
            ),
        ],
    )


def test_conversation_speech_drops_emoji_and_long_titles_the_card_keeps_them():
    long_title = "The Grand Villages Holiday Spectacular Featuring Every Choir Orchestra And Band"
    items = items_of(
        raw_event(1, "🎉 bingo bash 🎉", SS, at(SATURDAY, 18)),
        raw_event(2, long_title, SS, at(SATURDAY, 19)),
        today=SATURDAY,
    )

    (turn,) = converse(
        Resident(items, now=at(SATURDAY, 9)),
        [
            (
                "WhatsOnIntent",
                {},
                [
                    "At 6 PM, bingo bash at Spanish Springs.",
                    "At 7 PM, The Grand Villages Holiday Spectacular Featuring Every Choir at",
                ],
                ["🎉", "Orchestra And Band"],
            )
        ],
    )
    assert turn.card.splitlines() == [
        f"6 PM-8 PM: 🎉 bingo bash 🎉 ({SS})",
        f"7 PM-9 PM: {long_title} ({SS})",
    ]


def test_conversation_card_lines_start_with_a_capital():
    items = items_of(raw_event(1, "bingo bash", SS, SATURDAY), today=SATURDAY)

    (turn,) = converse(
        Resident(items, now=at(SATURDAY, 9)), [("WhatsOnIntent", {}, ["bingo bash"], [])]
    )

    assert turn.card == f"All day: Bingo bash ({SS})"


def test_conversation_the_calendar_unreadable_is_said_only_when_the_read_failed(monkeypatch):
    failing = Resident([], now=at(SATURDAY, 9), table=ItemsTable([], fails=True))
    converse(failing, [("WhatsOnIntent", {}, ["I can't read the calendar"], [])])

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not the calendar")

    monkeypatch.setattr(talk, "say_page", broken)
    converse(
        Resident([], now=at(SATURDAY, 9)),
        [("WhatsOnIntent", {}, ["something went wrong on my side"], ["calendar"])],
    )


def test_conversation_a_screen_gets_the_list_a_speaker_does_not():
    items = items_of(*_evening(SATURDAY, 4), today=SATURDAY)

    (with_screen,) = converse(
        Resident(items, now=at(SATURDAY, 9), screen=True),
        [("WhatsOnIntent", {}, ["4 events today"], [])],
    )
    (speaker,) = converse(
        Resident(items, now=at(SATURDAY, 9)), [("WhatsOnIntent", {}, ["4 events today"], [])]
    )

    assert with_screen.screen["type"] == "Alexa.Presentation.APL.RenderDocument"
    rows = with_screen.screen["datasources"]["events"]["rows"]
    assert [row["text"] for row in rows][:2] == [
        f"5 PM-7 PM: Show 00 ({BW})",
        f"5:20 PM-7:20 PM: Show 01 ({BW})",
    ]
    assert len(rows) == 4
    assert speaker.screen is None


@pytest.mark.parametrize("value", ["2026", "2026-WI", "202X"])
def test_conversation_too_broad_a_date_asks_which_one(value):
    (turn,) = converse(
        Resident([], now=at(SATURDAY, 9)),
        [("WhatsOnIntent", {"date": value}, ["That's a long time", "Which would you like?"], [])],
    )
    assert not turn.ends


# ------------------------------------------------------------------------------ untrusted input


def test_conversation_forged_session_attributes_are_refused_without_reading():
    # Given an AMAZON.NextIntent whose session claims a question up to the year 9999
    table = ItemsTable([])
    resident = Resident([], now=at(SATURDAY, 9), table=table)
    forged = {
        "pending": {
            "question": {
                "first": SATURDAY.isoformat(),
                "last": "9999-12-31",
                "asked_first": SATURDAY.isoformat(),
                "kind": "month",
                "part": None,
                "venue": None,
                "category": None,
            },
            "asked_at": at(SATURDAY, 9).isoformat(),
            "offset": 3,
        }
    }
    for attributes in (
        forged,
        {"pending": {**forged["pending"], "offset": 10**9}},
        {"pending": {**forged["pending"], "question": {"first": "x" * 10_000}}},
        {"pending": ["not", "a", "mapping"]},
        {"pending": {**forged["pending"], "asked_at": "1999-01-01T00:00:00+00:00"}},
    ):
        resident.attributes, resident.new = attributes, False

        # When the resident says "more"
        converse(resident, [("AMAZON.NextIntent", {}, ["There's nothing more to read"], [])])

    # Then nothing was read
    assert table.days_read == 0


def test_conversation_a_huge_unmatched_slot_is_echoed_and_logged_bounded():
    words = "blah " * 4000  # 20,000 characters
    logged = _LogLines()
    logging.getLogger("villages-sync-skill").addHandler(logged)

    (turn,) = converse(
        Resident([], now=at(SATURDAY, 9)),
        [("WhatsOnIntent", {"venue": words}, ["I don't know a venue called blah blah"], [])],
    )

    assert len(turn.ssml) < 1000
    logging.getLogger("villages-sync-skill").removeHandler(logged)
    assert logged.lines and max(len(line) for line in logged.lines) < 1000


class _LogLines(logging.Handler):
    """Each record the skill logs, with its extra fields, as one line of JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.dumps(record.__dict__, default=str))
