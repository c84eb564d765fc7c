"""What a producer run's tallies say about it: empty (the run fails) or degraded (it stores
what is valid and deletes nothing). Pure: the tallies in, a reason out ("" when none applies).
When a recorded run needs attention again is ``run_timing``'s."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from villages_sync.models import RejectReason
from villages_sync.normalise import invalid_count, unidentified_count

# Content keys of id-less events kept on the run record (~100 bytes each, well inside an item).
MAX_UNIDENTIFIED = 1000


def nothing_fetched(fetched: int, reported_count: int) -> str:
    """Why a scrape that fetched nothing is an empty calendar ("" when it fetched events): the
    calendar answered with nothing usable, never a reason to delete everything."""
    if fetched:
        return ""
    return f"the calendar returned no events (count={reported_count})"


def nothing_valid(
    fetched: int, valid: int, first: date, last: date, rejects: Mapping[str, int]
) -> str:
    """Why a scrape none of whose events is valid and in the window is empty ("" otherwise)."""
    if valid:
        return ""
    return (
        f"none of the {fetched} events fetched is valid and inside "
        f"{first}..{last} (rejects: {dict(rejects)})"
    )


def degraded_reason(rejects: Mapping[str, int], valid: int, max_reject_ratio: float) -> str:
    """Why the run is degraded (too large a share of invalid events), or "" when it is not.

    Outside-the-window events are not counted either way: they are not invalid.
    """
    invalid = invalid_count(rejects)
    judged = invalid + valid
    unidentified = unidentified_count(rejects)
    if unidentified > MAX_UNIDENTIFIED:
        # Each is matched to stored items by content on the run record: past this many, the
        # record cannot hold them, so the run cannot tell which stored events it saw.
        return (
            f"{unidentified} fetched event(s) have no usable id (more than {MAX_UNIDENTIFIED} "
            f"can be matched by content): {_reasons(rejects)}"
        )
    if not judged or invalid / judged <= max_reject_ratio:
        return ""
    return (
        f"{invalid} of {judged} events failed validation ({invalid / judged:.1%} > "
        f"{max_reject_ratio:.1%}): {_reasons(rejects)}"
    )


def _reasons(rejects: Mapping[str, int]) -> str:
    return ", ".join(
        f"{reason} {n}"
        for reason, n in sorted(rejects.items())
        if reason != RejectReason.OUTSIDE_WINDOW
    )
