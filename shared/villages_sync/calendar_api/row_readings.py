"""The shift check's memory: which event each row read twice named first. Pure.

Consecutive spans share a row, so a scrape reads some rows twice (a page's first and last rows,
the rows spans share). A row whose readings name different events means rows shifted between
two fetches (an event added or removed before it), and the run is flagged. Readings are taken
in the order the pages arrived; every later reading of a row is compared with its first.

The first readings are the only thing kept for this, about two a page when streaming. Ids
that are ordinary integers (as the calendar's are) are kept as numbers in one array per 1,024
rows, ~16 bytes a reading instead of ~115 in a dict of Python ints, beside a bit a row saying
which rows have one (so a row read once costs no search, when every row is recorded); any
other id (text, a float, None, a huge number) in a dict, and compared exactly as before.
"""

from __future__ import annotations

from array import array

_BLOCK_BITS = 10  # 1,024 rows a block: ~20 readings at 100-row pages
_BLOCK_MASK = (1 << _BLOCK_BITS) - 1
_INT64 = range(-(2**63), 2**63)


class RowReadings:
    """``record(offset, event_id)`` for each reading, in arrival order; ``shifted()`` names the
    offsets whose later readings disagree with their first."""

    __slots__ = ("_blocks", "_others", "_shifted")

    def __init__(self) -> None:
        # block -> (a bit a row: has a reading here, [offset, id, offset, id, ...]) of rows
        # first read with an integer id
        self._blocks: dict[int, tuple[bytearray, array[int]]] = {}
        self._others: dict[int, object] = {}  # offset -> id, for any other first reading
        self._shifted: set[int] = set()

    def record(self, offset: int, event_id: object) -> None:
        found, first = self._first(offset)
        if not found:
            self._keep(offset, event_id)
        elif first != event_id:
            self._shifted.add(offset)

    def shifted(self) -> list[int]:
        """Offsets read more than once whose readings name different events, in order."""
        return sorted(self._shifted)

    def __len__(self) -> int:
        """Rows with a first reading."""
        return sum(len(pairs) // 2 for _, pairs in self._blocks.values()) + len(self._others)

    def _first(self, offset: int) -> tuple[bool, object]:
        if offset in self._others:
            return True, self._others[offset]
        block = self._blocks.get(offset >> _BLOCK_BITS)
        if block is not None:
            present, pairs = block
            row = offset & _BLOCK_MASK
            if present[row >> 3] & (1 << (row & 7)):
                return True, pairs[2 * pairs[0::2].index(offset) + 1]
        return False, None

    def _keep(self, offset: int, event_id: object) -> None:
        if type(event_id) is int and event_id in _INT64 and 0 <= offset < 2**63:
            key = offset >> _BLOCK_BITS
            block = self._blocks.get(key)
            if block is None:
                block = self._blocks[key] = (bytearray(1 << (_BLOCK_BITS - 3)), array("q"))
            present, pairs = block
            row = offset & _BLOCK_MASK
            present[row >> 3] |= 1 << (row & 7)
            pairs.extend((offset, event_id))
        else:
            self._others[offset] = event_id
