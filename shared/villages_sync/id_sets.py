"""A set of ids small enough to hold every id of a large run. Pure.

A Python set costs ~60 bytes an int id (the int and its slot); the producer keeps two (the
client's raw ids, the normaliser's), which at 200,000 events was most of its memory growth.
Calendar ids are dense numbers (a 7-digit range, ~one id in 20), so they are held as bits in
chunks of 4,096 ids (512 bytes): ~3 bytes an id. Anything else (text ids, negative or huge
numbers) goes to an ordinary set, and so do ids that would need a chunk that does not pay.

The ids arrive in the API's order (by start time), not by id: a run's first few hundred ids
touch a few hundred chunks holding one id each, so "are the chunks dense?" cannot be judged
from the ids seen so far. (It once was: at 200,000 events the first 257 ids turned both sets
into plain ones, ~30 MB.) So no decision is ever undone: the first ``_FREE_CHUNKS`` chunks
(~0.65 MB, 4.2 M ids of range) are always made, and past them a chunk is made only while the
chunks would hold ``_IDS_PER_CHUNK`` ids each on average; an id that finds no chunk and may
not make one goes to the set. Sparse ids thus cost at most the free chunks plus about a set.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableSet
from typing import TypeGuard

_CHUNK_BITS = 12  # 4,096 ids a chunk
_CHUNK_BYTES = (1 << _CHUNK_BITS) // 8
_MAX_BITMAP_ID = 1 << 62
_FREE_CHUNKS = 1024  # made whatever they hold: ~650 bytes each with their dict entry
_IDS_PER_CHUNK = 16  # past them: a chunk pays at ~10 ids (a set costs ~60 bytes an id)


class CompactIds(MutableSet[object]):
    """Ids of any hashable type but float; non-negative ints as bits when their chunk pays."""

    __slots__ = ("_chunks", "_count", "_others")

    def __init__(self) -> None:
        self._chunks: dict[int, bytearray] = {}
        self._count = 0  # ids in chunks
        self._others: set[object] = set()  # ids of other types, and ints without a chunk

    def __contains__(self, value: object) -> bool:
        if _bitmapped(value):
            chunk = self._chunks.get(value >> _CHUNK_BITS)
            if chunk is not None and chunk[(value & 4095) >> 3] & (1 << (value & 7)):
                return True
        return value in self._others

    def add(self, value: object) -> None:
        if not _bitmapped(value) or value in self._others:
            self._others.add(value)
            return
        key, bit = value >> _CHUNK_BITS, value & 4095
        chunk = self._chunks.get(key)
        if chunk is None:
            if not self._may_add_chunk():
                self._others.add(value)
                return
            chunk = self._chunks[key] = bytearray(_CHUNK_BYTES)
        if not chunk[bit >> 3] & (1 << (bit & 7)):
            chunk[bit >> 3] |= 1 << (bit & 7)
            self._count += 1

    def discard(self, value: object) -> None:
        if _bitmapped(value):
            key, bit = value >> _CHUNK_BITS, value & 4095
            chunk = self._chunks.get(key)
            if chunk is not None and chunk[bit >> 3] & (1 << (bit & 7)):
                chunk[bit >> 3] &= ~(1 << (bit & 7)) & 0xFF
                self._count -= 1
                return
        self._others.discard(value)

    def __len__(self) -> int:
        return self._count + len(self._others)

    def __iter__(self) -> Iterator[object]:
        yield from list(self._bitmapped_ids())
        yield from list(self._others)

    def _may_add_chunk(self) -> bool:
        chunks = len(self._chunks)
        return chunks < _FREE_CHUNKS or len(self) >= _IDS_PER_CHUNK * (chunks + 1)

    def _bitmapped_ids(self) -> Iterator[int]:
        for key, chunk in self._chunks.items():
            for index, byte in enumerate(chunk):
                for bit in range(8):
                    if byte & (1 << bit):
                        yield (key << _CHUNK_BITS) | (index << 3) | bit


def _bitmapped(value: object) -> TypeGuard[int]:
    # bool too: a set holds False and 0 as one id. (Floats are not ids: never given here.)
    return isinstance(value, int) and 0 <= value < _MAX_BITMAP_ID
