"""CompactIds behaves exactly like a set, whatever ids it is given."""

from __future__ import annotations

import random
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from villages_sync import id_sets
from villages_sync.id_sets import CompactIds

_IDS = st.one_of(
    st.integers(1_480_000, 1_480_000 + 20_000),  # dense, like the calendar's
    st.integers(0, 2**64),  # sparse and huge
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=3),
)


_OPERATIONS = st.lists(st.tuples(st.sampled_from(["add", "discard"]), _IDS), max_size=400)


def _assert_same_as_a_set(operations: list[tuple[str, object]], probe: object) -> None:
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


@settings(max_examples=300, deadline=None)
@given(_OPERATIONS, _IDS)
def test_compact_ids_any_operations_same_as_a_set(operations, probe) -> None:
    _assert_same_as_a_set(operations, probe)


@settings(max_examples=300, deadline=None)
@given(_OPERATIONS, _IDS)
def test_compact_ids_few_free_chunks_same_as_a_set(operations, probe) -> None:
    # Only 2 chunks before they must pay: ids move between bits and the set
    with mock.patch.object(id_sets, "_FREE_CHUNKS", 2):
        _assert_same_as_a_set(operations, probe)


def test_compact_ids_dense_ids_in_shuffled_order_all_held_as_bits() -> None:
    # Given 200,000 calendar-like ids (one in ~19 over 3.8 M), in no order by id, as the API
    # lists them by start time: the first few hundred each touch a chunk of their own
    rng = random.Random(5)
    ids, next_id = [], 1_480_000
    for _ in range(200_000):
        next_id += rng.randint(1, 37)
        ids.append(next_id)
    rng.shuffle(ids)
    compact = CompactIds()

    # When they are added
    for value in ids:
        compact.add(value)

    # Then every one is a bit in a chunk (~3 bytes an id), none in the set (~60 bytes an id)
    assert len(compact) == 200_000 and all(value in compact for value in ids[:1000])
    assert not compact._others
    assert len(compact._chunks) <= (ids_range := max(ids) - min(ids)) // 4096 + 2
    assert ids_range > 4096 * 256  # more chunks than the old rule's 256 before judging density


def test_compact_ids_sparse_ids_cost_the_free_chunks_then_a_set() -> None:
    # Given ids far apart (one a chunk): past the free chunks, a chunk would not pay
    compact = CompactIds()
    ids = [n * 1_000_003 for n in range(5_000)]

    # When they are added
    for value in ids:
        compact.add(value)

    # Then every one is found, nothing else is, and chunks stopped at the free ones
    assert all(value in compact for value in ids) and 1 not in compact
    assert len(compact) == 5_000 and len(compact._chunks) == id_sets._FREE_CHUNKS
    assert len(compact._others) == 5_000 - id_sets._FREE_CHUNKS


def test_compact_ids_dense_ids_after_sparse_ones_get_chunks_again() -> None:
    # Given a CompactIds whose free chunks went to ids far apart
    compact = CompactIds()
    for n in range(id_sets._FREE_CHUNKS + 10):
        compact.add(n * 1_000_003)

    # When a dense run of ids follows, in a range no chunk covers yet
    dense = range(10**12, 10**12 + 200_000, 2)
    for value in dense:
        compact.add(value)

    # Then once the ids would fill chunks at the paying rate, the rest are bits in new chunks:
    # the set holds only the ids that came before that
    paying = id_sets._IDS_PER_CHUNK * (id_sets._FREE_CHUNKS + 1)
    assert len(compact) == id_sets._FREE_CHUNKS + 10 + len(dense)
    assert all(value in compact for value in dense)
    assert len(compact._chunks) > id_sets._FREE_CHUNKS and len(compact._others) <= paying
