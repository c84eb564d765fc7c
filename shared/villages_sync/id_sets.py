"""A set of ids small enough to hold every id of a large run. Pure.

A Python set costs ~60 bytes an int id (the int and its slot); the producer keeps two (the
client's raw ids, the normaliser's), which at 200,000 events was most of its memory growth.
Calendar ids are dense, increasing numbers (a 7-digit range), so they are held as bits in
chunks of 4,096 ids (512 bytes): ~3 bytes an id at one id in 20. Anything else (text ids,
negative or huge numbers) goes to an ordinary set, and so does everything once the ids turn
out too sparse for chunks to pay.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableSet

_CHUNK_BITS = 12  # 4,096 ids a chunk
_CHUNK_BYTES = (1 << _CHUNK_BITS) // 8
_MAX_BITMAP_ID = 1 << 62
_SPARSE_CHUNKS = 256  # past this many chunks, chunks must hold 32+ ids each on average


class CompactIds(MutableSet[object]):
    """Ids of any hashable type but float; non-negative ints as bits."""

    __slots__ = ("_chunks", "_count", "_others")

    def __init__(self) -> None:
        self._chunks: dict[int, bytearray] | None = {}
        self._count = 0  # ids in chunks
        self._others: set[object] = set()

    def __contains__(self, value: object) -> bool:
        if self._chunks is not None and _bitmapped(value):
            chunk = self._chunks.get(value >> _CHUNK_BITS)  # type: ignore[operator]
            return chunk is not None and bool(chunk[(value & 4095) >> 3] & (1 << (value & 7)))  # type: ignore[operator]
        return value in self._others

    def add(self, value: object) -> None:
        if self._chunks is None or not _bitmapped(value):
            self._others.add(value)
            return
        key, bit = value >> _CHUNK_BITS, value & 4095  # type: ignore[operator]
        chunk = self._chunks.get(key)
        if chunk is None:
            chunk = self._chunks[key] = bytearray(_CHUNK_BYTES)
            if len(self._chunks) > _SPARSE_CHUNKS and self._count < 32 * len(self._chunks):
                self._to_set()
                self._others.add(value)
                return
        if not chunk[bit >> 3] & (1 << (bit & 7)):
            chunk[bit >> 3] |= 1 << (bit & 7)
            self._count += 1

    def discard(self, value: object) -> None:
        if value in self and self._chunks is not None and _bitmapped(value):
            key, bit = value >> _CHUNK_BITS, value & 4095  # type: ignore[operator]
            self._chunks[key][bit >> 3] &= ~(1 << (bit & 7)) & 0xFF
            self._count -= 1
        else:
            self._others.discard(value)

    def __len__(self) -> int:
        return self._count + len(self._others)

    def __iter__(self) -> Iterator[object]:
        yield from list(self._bitmapped_ids())
        yield from list(self._others)

    def _bitmapped_ids(self) -> Iterator[int]:
        for key, chunk in (self._chunks or {}).items():
            for index, byte in enumerate(chunk):
                for bit in range(8):
                    if byte & (1 << bit):
                        yield (key << _CHUNK_BITS) | (index << 3) | bit

    def _to_set(self) -> None:
        self._others.update(self._bitmapped_ids())
        self._chunks, self._count = None, 0


def _bitmapped(value: object) -> bool:
    # bool too: a set holds False and 0 as one id. (Floats are not ids: never given here.)
    return isinstance(value, int) and 0 <= value < _MAX_BITMAP_ID
