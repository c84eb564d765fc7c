"""Finding J: an event the calendar still lists but whose ``id`` the normaliser cannot use (here
``2000010.0``, a float, as a serializer change would send it; ``null`` behaves alike) is a reject
without an id: nothing keeps its stored item, and below MAX_REJECT_RATIO (2%) the run is not
degraded, so two clean runs delete it. Up to 2% of the calendar can go this way, silently.
Fixed: an integral float is the id; a run with any id-less listing is degraded.
"""

from __future__ import annotations

import pytest
from adv_helpers import filler, stored, sync
from villages_sync.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="an adversarial reproduction of the deletion rules, not of the emulator"
)


@pytest.mark.parametrize("odd_id", [2_000_010.0, None], ids=["float-id", "null-id"])
def test_listed_event_with_an_unusable_id_is_not_deleted(deployment, odd_id):
    events = filler(60)
    with RunningCalendar(events) as calendar:
        sync(deployment, calendar.base_url)
        assert "2000010" in stored(deployment)

        garbled = [dict(e, id=odd_id) if e["id"] == 2_000_010 else e for e in events]
        calendar.set_events(garbled)
        runs = [sync(deployment, calendar.base_url) for _ in range(2)]

    # A float id that is a whole number is the same id: both runs are clean and swept. A null
    # id matches no stored item, so the run cannot tell which events it saw: it is degraded
    # (whatever the ratio) and refuses its sweep.
    expected = [("swept", False)] * 2 if odd_id is not None else [("refused", True)] * 2
    assert [(str(r.run.sweep_outcome), r.run.degraded) for r in runs] == expected
    assert "2000010" in stored(deployment), (
        f"deleted while listed: rejects {runs[1].run.rejects}, deleted {runs[1].run.deleted_count}"
    )
