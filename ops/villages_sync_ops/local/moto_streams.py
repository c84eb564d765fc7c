"""Trimming an in-process moto's DynamoDB stream once the local stream mapping has read it.

Real DynamoDB trims a stream after 24 hours; moto keeps every record for the server's life, and
its TransactWriteItems deep-copies the whole table, stream included, for its rollback: after a
2,000-event demo's two runs (~8,000 records) each of the sweep's tombstone transactions cost
seconds (day 3's sweep: 457 s instead of ~40 s). ``make demo`` runs moto in its own process,
so it can drop what its one reader has read. Anything else (a moto in another process,
DynamoDB Local) is left alone: the call finds no such table here and does nothing.
"""

from __future__ import annotations

from typing import Any


def trim_read_records(table_name: str, region: str, through_sequence: str) -> int:
    """Drop the records up to and including ``through_sequence`` from the stream of this
    process's moto table ``table_name``; how many were dropped (0: not an in-process table)."""
    try:
        from moto.dynamodb.models import dynamodb_backends
    except ImportError:  # moto is a dependency of the command line, but say so plainly
        return 0
    for account_id in list(dynamodb_backends.keys()):
        backend: Any = dynamodb_backends[account_id].get(region)
        table = None if backend is None else backend.tables.get(table_name)
        shard = None if table is None else getattr(table, "stream_shard", None)
        if shard is None:
            continue
        drop = int(through_sequence) - int(shard.starting_sequence_number) + 1
        drop = max(0, min(drop, len(shard.items)))
        # Later records keep their sequence numbers: moto numbers a record by its index plus
        # the shard's starting number, so the start moves on by what is dropped.
        shard.items = shard.items[drop:]
        shard.starting_sequence_number += drop
        return drop
    return 0
