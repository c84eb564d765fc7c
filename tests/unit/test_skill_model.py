"""The skill package: the interaction model is consistent, matches the catalog the code uses,
and the manifest points Alexa at a Lambda function."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from villages_sync.skill.catalog import CATEGORIES, VENUES, venue_hosting
from villages_sync_ops.standin.dataset import CATEGORIES as CALENDAR_CATEGORIES
from villages_sync_ops.standin.dataset import REC_CENTERS, SPORTS_VENUES, TOWN_SQUARES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "skill-package"
HANDLED_INTENTS = {
    "WhatsOnIntent",
    "RefineIntent",  # a one-word answer: "tomorrow", "Brownwood", "concerts"
    "DetailsIntent",  # "tell me about the second one"
    "RemindIntent",  # "remind me about the second one"
    "LookupIntent",  # "when is line dancing?", "is the Saturday concert still on?"
    "AMAZON.RepeatIntent",
    "AMAZON.PreviousIntent",
    "AMAZON.NextIntent",
    "AMAZON.YesIntent",
    "AMAZON.NoIntent",
    "AMAZON.HelpIntent",
    "AMAZON.StopIntent",
    "AMAZON.CancelIntent",
    "AMAZON.FallbackIntent",
    "AMAZON.NavigateHomeIntent",
}


@pytest.fixture(scope="module")
def language_model() -> dict:
    model = json.loads((PACKAGE / "interactionModels/custom/en-US.json").read_text())
    return model["interactionModel"]["languageModel"]


def _normalised(sample: str) -> str:
    return " ".join(sample.casefold().split())


def test_model_every_slot_in_a_sample_is_defined_and_every_type_exists(language_model):
    types = {t["name"] for t in language_model["types"]}
    for intent in language_model["intents"]:
        defined = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        used = {name for sample in intent["samples"] for name in re.findall(r"{(\w+)}", sample)}
        assert used <= set(defined), intent["name"]
        assert set(defined) <= used, f"{intent['name']}: a slot no sample fills"
        assert {t for t in defined.values() if not t.startswith("AMAZON.")} <= types


def test_model_no_sample_appears_twice_or_in_two_intents(language_model):
    samples = Counter(
        _normalised(sample)
        for intent in language_model["intents"]
        for sample in intent.get("samples", [])
    )

    assert [sample for sample, count in samples.items() if count > 1] == []


def test_model_whats_on_has_the_slots_and_questions_of_the_issue(language_model):
    (whats_on,) = [i for i in language_model["intents"] if i["name"] == "WhatsOnIntent"]

    assert {s["name"]: s["type"] for s in whats_on["slots"]} == {
        "date": "AMAZON.DATE",
        "venue": "VENUE",
        "category": "CATEGORY",
        "partOfDay": "PART_OF_DAY",
        "time": "AMAZON.TIME",  # "what's on at 7"
    }
    samples = {_normalised(s) for s in whats_on["samples"]}
    # "what's on tonight at Spanish Springs", "any concerts this weekend",
    # "what's happening at Brownwood tomorrow afternoon", "what's on"
    assert {
        "what's on {partofday} at {venue}",
        "any {category} {date}",
        "what's happening at {venue} {date} {partofday}",
        "what's on",
    } <= samples
    assert {i["name"] for i in language_model["intents"]} == HANDLED_INTENTS
    assert re.fullmatch(r"[a-z]+( [a-z]+)+", language_model["invocationName"])


def test_model_every_venue_value_and_synonym_is_unique(language_model):
    (venue_type,) = [t for t in language_model["types"] if t["name"] == "VENUE"]
    words = Counter(
        _normalised(word)
        for value in venue_type["values"]
        for word in (value["name"]["value"], *value["name"].get("synonyms", []))
    )
    ids = Counter(value["id"] for value in venue_type["values"])

    assert [word for word, count in words.items() if count > 1] == []
    assert [value_id for value_id, count in ids.items() if count > 1] == []


def test_model_category_and_part_of_day_words_are_unique_too(language_model):
    for type_name in ("CATEGORY", "PART_OF_DAY"):
        (slot_type,) = [t for t in language_model["types"] if t["name"] == type_name]
        words = Counter(
            _normalised(word)
            for value in slot_type["values"]
            for word in (value["name"]["value"], *value["name"].get("synonyms", []))
        )
        assert [word for word, count in words.items() if count > 1] == [], type_name


def test_model_types_are_the_catalogs(monkeypatch):
    # The code matches venues and categories with the catalog; Alexa with the model's types.
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    sys.modules.pop("interaction_model", None)
    import interaction_model

    assert interaction_model.main(["--check"]) == 0
    assert {c.id for c in CATEGORIES} >= set(CALENDAR_CATEGORIES)


def test_catalog_hosts_every_venue_the_calendar_is_known_to_use():
    protocol_venues = (
        "Spanish Springs Town Square",
        "Lake Sumter Landing Market Square",
        "Brownwood Paddock Square",
        "Sawgrass Grove",
        "The Show Kitchen at Sawgrass Grove",
        "The Sharon",
        "The Studio Theatre at Tierra Del Sol",
        "Savannah Recreation",
        "Polo Club",
        "Eastport",
    )
    standin = tuple(v.title for v in (*TOWN_SQUARES, *REC_CENTERS, *SPORTS_VENUES))

    assert [title for title in (*protocol_venues, *standin) if venue_hosting(title) is None] == []
    assert venue_hosting("The Show Kitchen at Sawgrass Grove").id == "SHOW_KITCHEN"
    assert venue_hosting("The Sharon L. Morse Performing Arts Center").id == "SHARON"
    assert len({v.id for v in VENUES}) == len(VENUES)


def test_manifest_points_at_a_lambda_function_and_shows_model_phrases(language_model):
    manifest = json.loads((PACKAGE / "skill.json").read_text())["manifest"]
    locale = manifest["publishingInformation"]["locales"]["en-US"]
    resources = json.loads((ROOT / "ask-resources.json").read_text())

    assert manifest["apis"]["custom"]["endpoint"]["uri"].startswith("arn:aws:lambda:")
    assert resources["profiles"]["default"]["skillMetadata"]["src"] == "./skill-package"
    invocation = language_model["invocationName"]
    assert all(invocation in phrase for phrase in locale["examplePhrases"])


def test_catalog_recreation_centers_answer_to_residents_short_names():
    # "paradise rec center" was "a venue I don't know" though the calendar lists it
    centers = [v for v in VENUES if v.name.endswith("Recreation Center")]
    assert len(centers) >= 12
    for venue in centers:
        place = venue.name.removesuffix(" Recreation Center")
        assert {f"{place} rec", f"{place} rec center"} <= set(venue.synonyms), venue.name
