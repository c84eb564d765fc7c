"""CompactIds behaves as a set and RowReadings as the old dict of first readings,
over mixed ids (ints, bools, big and negative ints, numeric strings, floats, None) and offsets
(block edges, offsets past 2**63), with few free chunks so that the fallback set is used."""

from __future__ import annotations

import random

import pytest
from villages_sync import id_sets
from villages_sync.calendar_api.row_readings import RowReadings
from villages_sync.id_sets import CompactIds


@pytest.mark.parametrize("free_chunks", [0, 1, 2, 1024])
def test_compact_ids_is_a_set(monkeypatch, free_chunks: int) -> None:
    monkeypatch.setattr(id_sets, "_FREE_CHUNKS", free_chunks)
    for trial in range(200):
        r = random.Random(trial)
        pool = [
            r.choice(
                [
                    r.randrange(0, 1 << 20),
                    r.randrange(1 << 61, 1 << 63),
                    -r.randrange(1, 99),
                    str(r.randrange(0, 50)),
                    True,
                    False,
                    r.randrange(0, 50),
                    2**62 - 1,
                    2**62,
                    r.randrange(0, 4096 * 50),
                ]
            )
            for _ in range(60)
        ]
        ids, reference = CompactIds(), set()
        for _ in range(400):
            value = r.choice(pool)
            if r.random() < 0.85:
                ids.add(value), reference.add(value)
            else:
                ids.discard(value), reference.discard(value)
            assert (value in ids) == (value in reference)
            assert len(ids) == len(reference)
        assert set(ids) == reference


def test_row_readings_flag_what_a_dict_of_first_readings_flags() -> None:
    for trial in range(1000):
        r = random.Random(trial)
        readings, first, shifted = RowReadings(), {}, set()
        for _ in range(200):
            offset = r.choice(
                [
                    r.randrange(0, 3000),
                    r.randrange(0, 20),
                    2**63 + r.randrange(3),
                    r.randrange(1020, 1030),
                ]
            )
            event_id = r.choice(
                [
                    r.randrange(0, 5),
                    True,
                    False,
                    1.0,
                    0.0,
                    "1",
                    2**63,
                    -(2**63),
                    -(2**63) - 1,
                    2**64,
                    None,
                    r.randrange(-3, 3),
                ]
            )
            readings.record(offset, event_id)
            if offset in first:
                if first[offset] != event_id:
                    shifted.add(offset)
            else:
                first[offset] = event_id
        assert readings.shifted() == sorted(shifted)
        assert len(readings) == len(first)
