"""The certification pre-flight's rules (villages_sync_ops.skill.certification), as tables: each
row a package detail and the problem it must (or must not) raise."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from villages_sync.skill.catalog import venue_hosting
from villages_sync_ops.skill import certification as cert

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "skill-package"


def png(width: int, height: int) -> bytes:
    """A real (tiny) PNG header: signature, then the IHDR chunk with its CRC."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        cert.PNG_SIGNATURE
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def model(
    invocation: str = "villages events",
    intents: list[dict[str, Any]] | None = None,
    types: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "interactionModel": {
            "languageModel": {
                "invocationName": invocation,
                "intents": intents
                if intents is not None
                else [
                    {
                        "name": "WhatsOnIntent",
                        "slots": [
                            {"name": "date", "type": "AMAZON.DATE"},
                            {"name": "venue", "type": "VENUE"},
                        ],
                        "samples": ["what's on {date}", "what's on at {venue} {date}"],
                    },
                    {"name": "AMAZON.NextIntent", "samples": ["more"]},
                ],
                "types": types
                if types is not None
                else [
                    {
                        "name": "VENUE",
                        "values": [
                            {
                                "id": "BROWNWOOD",
                                "name": {
                                    "value": "Brownwood Paddock Square",
                                    "synonyms": ["Brownwood"],
                                },
                            }
                        ],
                    }
                ],
            }
        }
    }


# ------------------------------------------------------------------------- invocation name


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("villages events", None),
        ("sam's market", None),
        ("a. b. c. news", None),
        ("Villages Events", "lower-case"),
        ("villages events 2", "lower-case"),
        ("villages-events", "lower-case"),
        ("villages", "one word"),
        ("ask villages", "launch phrase 'ask'"),
        ("open villages events", "launch phrase 'open'"),
        ("villages events skill", "'skill'"),
        ("alexa villages events", "'alexa'"),
        ("amazon town events", "'amazon'"),
        ("villages app", "'app'"),
        ("events from villages", "connecting word 'from'"),
        ("the villages", "two words, one of them 'the'"),
        ("for villages", "two words, one of them 'for'"),
        ("what is on in the villages of florida near the lake today", "characters"),
    ],
)
def test_invocation_name_rules(name, complaint):
    problems = [str(p) for p in cert.invocation_name_problems(name)]

    if complaint is None:
        assert problems == []
    else:
        assert any(complaint in p for p in problems), problems
        assert all(p.startswith("invocation name: ") for p in problems)


# ------------------------------------------------------------------------- example phrases


@pytest.mark.parametrize(
    ("phrase", "complaint"),
    [
        ("Alexa, open villages events", None),
        ("Alexa, ask villages events what's on tomorrow", None),
        ("Alexa, ask villages events what's on at Brownwood tomorrow", None),
        ("Alexa, ask villages events what's on at brownwood paddock square friday?", None),
        ("Alexa, ask villages events to what's on tomorrow", None),  # a connecting word
        ("Alexa, talk to villages events", None),
        ("Open villages events", "does not start with 'Alexa,'"),
        ("Alexa, villages events what's on tomorrow", "no launch phrase"),
        ("Alexa, ask village events what's on tomorrow", "does not say the invocation name"),
        ("Alexa, ask villages events", "needs a request"),
        ("Alexa, ask villages events what is happening tomorrow", "no sample utterance"),
        ("Alexa, ask villages events what's on tomorrow at Brownwood", "no sample utterance"),
        ("Alexa, ask villages events what's on at Lake Sumter next friday", "no sample utterance"),
        ("Alexa, ask villages events what's on", "no sample utterance"),  # {date} needs words
    ],
)
def test_example_phrase_must_match_a_sample_word_for_word(phrase, complaint):
    problems = [str(p) for p in cert.example_phrase_problems([phrase], model())]

    if complaint is None:
        assert problems == []
    else:
        assert len(problems) == 1 and complaint in problems[0], problems


def test_example_phrases_none_or_more_than_three_are_problems():
    assert "none given" in str(cert.example_phrase_problems([], model())[0])
    four = ["Alexa, open villages events"] * 4
    assert [p.detail for p in cert.example_phrase_problems(four, model())] == [
        "4 given; the store shows at most 3"
    ]


# ------------------------------------------------------------------------- the model


@pytest.mark.parametrize(
    ("intents", "types", "complaints"),
    [
        (None, None, []),
        (
            [{"name": "A", "slots": [{"name": "v", "type": "VENUES"}], "samples": ["at {v}"]}],
            [],
            ["A.v uses 'VENUES', which the model does not define"],
        ),
        (
            [{"name": "A", "slots": [{"name": "d", "type": "AMAZON.DATE"}], "samples": ["{day}"]}],
            [],
            ["names the slot {day}, which the intent does not declare"],
        ),
    ],
)
def test_slot_types_referenced_must_be_defined(intents, types, complaints):
    problems = [p.detail for p in cert.slot_type_problems(model(intents=intents, types=types))]

    assert len(problems) == len(complaints)
    for problem, complaint in zip(problems, complaints, strict=True):
        assert complaint in problem


@pytest.mark.parametrize(
    ("samples_by_intent", "complaints"),
    [
        ({"A": ["more"], "B": ["less"]}, []),
        ({"A": ["more"], "B": ["More."]}, ["'more' is a sample of A, B"]),
        ({"A": ["more", "more"]}, ["'more' is in A twice"]),
    ],
)
def test_no_sample_in_two_intents(samples_by_intent, complaints):
    intents = [{"name": n, "samples": s} for n, s in samples_by_intent.items()]

    problems = [p.detail for p in cert.duplicate_sample_problems(model(intents=intents))]

    assert problems == complaints


# ------------------------------------------------------------------------- icons


SMALL, LARGE = "file://assets/images/small.png", "file://assets/images/large.png"


@pytest.mark.parametrize(
    ("locale", "files", "complaints"),
    [
        (
            {"smallIconUri": SMALL, "largeIconUri": LARGE},
            {SMALL: png(108, 108), LARGE: png(512, 512)},
            [],
        ),
        ({"largeIconUri": LARGE}, {LARGE: png(512, 512)}, ["smallIconUri is missing"]),
        (
            {"smallIconUri": SMALL, "largeIconUri": LARGE},
            {SMALL: png(108, 108)},
            ["not in the skill package"],
        ),
        (
            {"smallIconUri": SMALL, "largeIconUri": LARGE},
            {SMALL: png(108, 108), LARGE: png(512, 500)},
            ["is 512x500; it must be 512x512"],
        ),
        (
            {"smallIconUri": SMALL, "largeIconUri": LARGE},
            {SMALL: b"\xff\xd8\xff\xe0" + b"\0" * 40, LARGE: png(512, 512)},
            ["is not a PNG"],
        ),
        (
            {"smallIconUri": "https://example.com/s.png", "largeIconUri": LARGE},
            {LARGE: png(512, 512)},
            ["is not a file:// URI"],
        ),
    ],
)
def test_icons_present_and_the_right_size(locale, files, complaints):
    problems = [p.detail for p in cert.icon_problems({"en-US": locale}, files.get)]

    assert len(problems) == len(complaints), problems
    for problem, complaint in zip(problems, complaints, strict=True):
        assert complaint in problem


def test_png_size_reads_the_header_of_the_shipped_icons():
    sizes = {
        path.name: cert.png_size(path.read_bytes()[: cert.ICON_BYTES_NEEDED])
        for path in (PACKAGE / "assets/images").glob("*.png")
    }

    assert sizes == {"en-US_smallIconUri.png": (108, 108), "en-US_largeIconUri.png": (512, 512)}


# ------------------------------------------------------------------------- prompts


@pytest.mark.parametrize(
    ("text", "fine"),
    [
        ("What would you like to know?", True),
        ("Want to hear more? Say more, or stop.", True),
        ("There's nothing more to read. Ask me what's on, for example tonight.", True),
        ("Sorry. Try: what's on tonight?", True),
        ("I don't know that kind. You can ask about concerts or sports.", True),
        ("That's a long time. I can look up a day, a week, a weekend or a month.", False),
        ("There are 3 events tonight.", False),
        ("", False),
    ],
)
def test_open_session_prompt_must_ask_or_instruct(text, fine):
    problems = cert.prompt_problems({"the prompt": text})

    assert (problems == []) is fine
    if not fine:
        assert problems[0].detail.startswith("the prompt ends ")


def test_conversation_prompts_cover_every_misunderstanding_and_reprompt():
    prompts = cert.conversation_prompts()

    for name in ("WELCOME", "HELP", "not understood (too_broad)", "nothing on today (reprompt)"):
        assert name in prompts
    assert all(isinstance(text, str) and text for text in prompts.values())


# ------------------------------------------------------------------------- catalogue


def test_catalogue_names_each_venue_of_the_table_the_model_lacks():
    venues = {"Brownwood Paddock Square": 12, "Fenney Recreation Center": 3, "": 2}

    problems = [p.detail for p in cert.catalogue_problems(venues, venue_hosting)]

    assert problems == [
        "'Fenney Recreation Center' (3 events) is in the table but not in "
        "villages_sync/skill/catalog.py"
    ]


# ------------------------------------------------------------------------- the real package


def test_the_shipped_package_passes_its_own_checks():
    manifest = json.loads((PACKAGE / "skill.json").read_text())
    models = {
        path.stem: json.loads(path.read_text())
        for path in (PACKAGE / "interactionModels/custom").glob("*.json")
    }

    def icon_bytes(uri: str) -> bytes | None:
        path = PACKAGE / uri.removeprefix("file://")
        return path.read_bytes()[: cert.ICON_BYTES_NEEDED] if path.is_file() else None

    assert [str(p) for p in cert.package_problems(manifest, models, icon_bytes)] == []
