"""Guards against a bug found in review: an event the calendar still lists but whose ``id`` the
normaliser cannot use (here ``2000010.0``, a float, as a serializer change would send it; ``null``
behaves alike) is a reject without an id: nothing keeps its stored item, and below MAX_REJECT_RATIO
(2%) the run is not degraded, so two clean runs delete it. Up to 2% of the calendar can go this way,
silently. Fixed: an integral float is the id. An id-less listing (issue 18, case 5) no longer
degrades the run whatever the ratio: it protects the stored item it matches by content (date, start
time, title, venue), and one that matches nothing is a counted reject.
"""

from __future__ import annotations

import pytest
from support.feeds import filler, stored, sync
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
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

    # A float id that is a whole number is the same id; a null id is matched by content: the
    # stored item it matches is kept, and both runs are clean and swept (issue 18, case 5:
    # they were degraded, whatever the ratio, before).
    assert [(str(r.run.sweep_outcome), r.run.degraded) for r in runs] == [("swept", False)] * 2
    assert "2000010" in stored(deployment), (
        f"deleted while listed: rejects {runs[1].run.rejects}, deleted {runs[1].run.deleted_count}"
    )


ODD_IDS = ["1" * 26, "9" * 5000, "abc", -4, 1.5, True]


def test_six_odd_ids_among_480_neither_stop_the_sweep_nor_cost_a_stored_event(deployment):
    # Given 480 listed events stored, then six of them listed with odd ids (1.25%, under the
    # 2% ratio): five new events that match nothing stored, and one existing event whose id
    # turned odd while its content stayed; and one event gone from the calendar
    events = filler(480)
    with RunningCalendar(events) as calendar:
        sync(deployment, calendar.base_url)
        existing = events[7]
        odd_new = [
            dict(e, id=odd, title=f"New {n}")
            for n, (e, odd) in enumerate(zip(events[:5], ODD_IDS[:5], strict=True))
        ]
        gone = events[9]
        listed = [e for e in events if e is not existing and e is not gone]
        calendar.set_events([*listed, *odd_new, dict(existing, id=ODD_IDS[5])])
        # When two runs see that
        runs = [sync(deployment, calendar.base_url) for _ in range(2)]

    # Then both runs are clean and swept (not degraded, exit 0 through `sync`), the odd ids
    # are counted rejects, the event whose id turned odd is kept, and the one really gone is
    # deleted by the second run (the sweep was not stopped)
    assert [(str(r.run.sweep_outcome), r.run.degraded) for r in runs] == [("swept", False)] * 2
    assert sum(runs[0].run.rejects.get(k, 0) for k in ("bad_id", "id_too_long")) == 6
    items = stored(deployment)
    assert str(existing["id"]) in items, "a stored event whose id turned odd was deleted"
    assert str(gone["id"]) not in items
    assert runs[1].run.deleted_count == 1
