"""RowReadings flags exactly the rows a dict of first readings would, whatever the ids."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from villages_sync.calendar_api.row_readings import RowReadings

_IDS = st.one_of(
    st.integers(1_480_000, 1_480_010),  # the calendar's: often equal on purpose
    st.integers(-(2**70), 2**70),  # past int64 too
    st.booleans(),  # True == 1, False == 0, as in a dict
    st.floats(allow_nan=False),  # 1.0 == 1
    st.none(),
    st.text(max_size=2),
)
_OFFSETS = st.one_of(st.integers(0, 3_000), st.integers(2**63 - 2, 2**63 + 2))


def _shifted_reference(readings: list[tuple[int, object]]) -> list[int]:
    """The check as it was written over every page's readings at the end of a scrape."""
    seen: dict[int, object] = {}
    shifted: set[int] = set()
    for offset, event_id in readings:
        if offset in seen and seen[offset] != event_id:
            shifted.add(offset)
        seen.setdefault(offset, event_id)
    return sorted(shifted)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_OFFSETS, _IDS), max_size=300))
def test_row_readings_any_readings_same_rows_as_a_dict(readings) -> None:
    # Given readings of rows, some read several times
    row_readings = RowReadings()

    # When they are recorded in arrival order
    for offset, event_id in readings:
        row_readings.record(offset, event_id)

    # Then the shifted rows are those the dict of first readings finds
    assert row_readings.shifted() == _shifted_reference(readings)
    assert len(row_readings) == len({offset for offset, _ in readings})


def test_row_readings_span_boundaries_read_twice_flags_only_the_changed_row() -> None:
    # Given 100-row pages whose first and last rows are read twice (spans share a row)
    row_readings = RowReadings()
    pages = [(start, start + 99) for start in range(0, 200_000, 99)]

    # When every shared row reads the same event twice, but row 99,099 names another event
    # the second time (an event was added before it between the two fetches)
    for first, last in pages:
        row_readings.record(first, 1_000_000 + first)
        reread = 7 if last == 99_099 else 1_000_000 + last
        row_readings.record(last, reread)

    # Then only that row is flagged, and the readings are kept as numbers, not Python objects
    assert row_readings.shifted() == [99_099]
    assert not row_readings._others
    assert sum(pairs.itemsize * len(pairs) for _, pairs in row_readings._blocks.values()) < 40_000


def test_row_readings_first_reading_not_an_integer_compared_as_itself() -> None:
    # Given a row first read with a text id, another with no id, another with 1 as True
    row_readings = RowReadings()
    for offset, event_id in ((5, "A1"), (6, None), (7, True)):
        row_readings.record(offset, event_id)

    # When they are read again: "A1" as 1 (another event), None again, True as 1 (equal)
    for offset, event_id in ((5, 1), (6, None), (7, 1)):
        row_readings.record(offset, event_id)

    # Then only the text one disagrees
    assert row_readings.shifted() == [5]
