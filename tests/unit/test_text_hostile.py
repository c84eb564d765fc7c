"""clean_text on hostile scraped text: never raises, never lets markup or controls through."""

from __future__ import annotations

import json

import pytest
from villages_sync.text import clean_text


@pytest.mark.parametrize(
    ("raw_json", "expected"),
    [
        (r'"&lt;b&gt;Jazz\ud800 &amp; Blues"', "Jazz & Blues"),  # lone surrogate with markup
        (r'"<p>Bingo\udfff</p>"', "Bingo"),
        (r'"Line\u0000dance\u202e"', "Linedance"),
    ],
)
def test_clean_text_lone_surrogate_from_json_is_dropped_not_raised(raw_json, expected):
    # Given text as json.loads gives it (a lone surrogate is legal in JSON)
    raw = json.loads(raw_json)

    # When it is cleaned
    cleaned = clean_text(raw, 200)

    # Then the surrogate is gone and the rest is clean text
    assert cleaned == expected
