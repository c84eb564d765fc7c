"""CompactIds behaves exactly like a set, whatever ids it is given."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from villages_sync.id_sets import CompactIds

_IDS = st.one_of(
    st.integers(1_480_000, 1_480_000 + 20_000),  # dense, like the calendar's
    st.integers(0, 2**64),  # sparse and huge
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "discard"]), _IDS), max_size=400), _IDS)
def test_compact_ids_any_operations_same_as_a_set(operations, probe) -> None:
    # Given a CompactIds and a set
    compact, reference = CompactIds(), set()

    # When the same ids are added and discarded in both
    for operation, value in operations:
        getattr(compact, operation)(value)
        getattr(reference, operation)(value)

    # Then they hold the same ids
    assert len(compact) == len(reference)
    assert set(compact) == reference
    assert (probe in compact) == (probe in reference)
    assert all(value in compact for value in reference)


def test_compact_ids_sparse_ids_fall_back_to_a_set_and_stay_correct() -> None:
    # Given ids far apart (one a chunk): chunks would cost more than a set
    compact = CompactIds()
    ids = [n * 1_000_003 for n in range(2_000)]

    # When they are added
    for value in ids:
        compact.add(value)

    # Then every one is found, nothing else is, and the chunks were given up
    assert all(value in compact for value in ids) and 1 not in compact
    assert len(compact) == 2_000 and compact._chunks is None
