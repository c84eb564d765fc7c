"""The state machine's oracle against the product: what the model calls valid, the normaliser
stores, and what it calls invalid, the normaliser rejects.

The deletion state machine shrank a counter-example that was the model's mistake, not the
product's: the model still called ``cancelled: "no"`` invalid after the product had learnt to
read "yes"/"no" as booleans, so a run the product rightly swept looked like a degraded run
swept. This pins the model to the product for every way the model writes an event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support.calendar_model import FLAG_STYLES, ID_STYLES, TZ, ModelEvent, today
from villages_sync.normalise import Rejection, normalise_event, window_for

NOW = datetime.now(TZ)
WINDOW = window_for(NOW, TZ, 14)

VARIANTS = (
    [{"id_style": style} for style in ID_STYLES]
    + [{"all_day_style": style, "all_day": flag} for style in FLAG_STYLES for flag in (True, False)]
    + [
        {"cancelled_style": style, "cancelled": flag}
        for style in FLAG_STYLES
        for flag in (True, False)
    ]
    + [{"start_style": style} for style in ("iso", "slashes", "object")]
    + [{"nested_title": True}, {"lengthening_subcategory": True}]
)


def _variant_id(changes: dict) -> str:
    return ",".join(f"{name}={value}" for name, value in changes.items())


@pytest.mark.parametrize("changes", VARIANTS, ids=_variant_id)
def test_model_validity_is_the_normalisers(changes: dict) -> None:
    # Given an event the model writes one particular way, on a day inside the window
    event = ModelEvent(key=2_000_001, day=1, **changes)

    # When the product normalises it
    outcome = normalise_event(
        event.raw(today()), tz=TZ, window=WINDOW, last_updated=int(NOW.timestamp())
    )

    # Then the model's verdict is the product's
    stored = not isinstance(outcome, Rejection)
    assert stored == event.valid, outcome
    if stored:
        assert outcome["cancelled"] is event.cancelled
        assert outcome["all_day"] is event.all_day
        assert outcome["event_date"] == (today() + timedelta(days=1)).isoformat()
