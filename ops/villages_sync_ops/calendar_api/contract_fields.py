"""What the contract says of each event's fields, and what a page's events showed of them. Pure.

The fields the normaliser reads (with the JSON types it reads), the fields public clients
show (docs/calendar-contract.md, "The response"), the venues and categories the skill's
catalogue knows, and the normaliser's own verdict: the event half of ``contract.judge``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from villages_sync.models import DateWindow, RejectReason
from villages_sync.normalise import normalise_event
from villages_sync.skill.catalog import category_by_id, venue_hosting

Verdict = Literal["ok", "note", "broken"]
_TZ = ZoneInfo("America/New_York")
# (not up to date.max: the normaliser reaches years past the window to judge a date implausible)
_WIDE_WINDOW = DateWindow(first=date(1970, 1, 1), last=date(9000, 12, 31))


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A field the normaliser reads: its path, whether an event is refused without it, and the
    JSON types it reads (``null`` counts as absent)."""

    path: str
    required: bool
    types: frozenset[str]


_TEXT = frozenset({"str"})
_FLAG = frozenset({"bool"})
FIELD_RULES: tuple[FieldRule, ...] = (
    FieldRule("id", True, frozenset({"int", "str"})),
    FieldRule("title", True, _TEXT),
    FieldRule("start.date", True, _TEXT),
    FieldRule("start.type", False, _TEXT),
    FieldRule("end.date", False, _TEXT),
    FieldRule("allDay", False, _FLAG),
    FieldRule("cancelled", False, _FLAG),
    FieldRule("featured", False, _FLAG),
    FieldRule("description", False, _TEXT),
    FieldRule("excerpt", False, _TEXT),
    FieldRule("category", False, _TEXT),
    FieldRule("subcategories", False, frozenset({"list"})),
    FieldRule("location.title", False, _TEXT),
    FieldRule("location.category", False, _TEXT),
    FieldRule("address.streetAddress", False, _TEXT),
    FieldRule("address.locality", False, _TEXT),
    FieldRule("address.region", False, _TEXT),
    FieldRule("address.postalCode", False, _TEXT),
    FieldRule("url", False, _TEXT),
)
DATE_FIELDS = ("start.date", "end.date")
# Every top-level field public clients show (the normaliser reads some; the rest are known).
KNOWN_FIELDS = frozenset(
    {
        "id", "title", "description", "excerpt", "category", "subcategories", "start", "end",
        "allDay", "cancelled", "featured", "enrolement", "location", "address", "geo",
        "image", "url", "otherInfo",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Finding:
    point: str
    verdict: Verdict
    detail: str


@dataclass(slots=True)
class FieldSeen:
    present: int = 0
    types: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)


def fields_seen(events: Iterable[object]) -> dict[str, FieldSeen]:
    """For each field the normaliser reads: how many events carry it, its JSON types, and the
    shapes of its dates (digits as 9: ``9999-99-99T99:99:99.999Z``)."""
    seen = {rule.path: FieldSeen() for rule in FIELD_RULES}
    for event in events:
        if not isinstance(event, dict):
            continue
        for rule in FIELD_RULES:
            value = _at(event, rule.path)
            if value is None:
                continue
            entry = seen[rule.path]
            entry.present += 1
            entry.types[json_type(value)] += 1
            if rule.path in DATE_FIELDS and isinstance(value, str):
                entry.formats[date_format(value)] += 1
    return seen


def date_format(text: str) -> str:
    return re.sub(r"\d", "9", text[:40])


def field_findings(fields: Mapping[str, FieldSeen], events: list[Any]) -> list[Finding]:
    findings = []
    total = sum(1 for e in events if isinstance(e, dict))
    if total < len(events):
        findings.append(
            Finding("events", "broken", f"{len(events) - total} events are not JSON objects")
        )
    for rule in FIELD_RULES:
        seen = fields[rule.path]
        point = f"field {rule.path}"
        wrong = {t: n for t, n in seen.types.items() if t not in rule.types}
        missing = total - seen.present
        if wrong:
            as_seen = ", ".join(f"{t} ({n})" for t, n in sorted(wrong.items()))
            findings.append(
                Finding(point, "broken", f"expected {'/'.join(sorted(rule.types))}: {as_seen}")
            )
        elif rule.required and missing:
            findings.append(Finding(point, "broken", f"missing from {missing} of {total} events"))
        if rule.path in DATE_FIELDS and seen.formats:
            unreadable = [f for f in seen.formats if not _readable_instant(f)]
            formats = ", ".join(sorted(seen.formats))
            if unreadable:
                findings.append(Finding(point, "broken", f"dates not ISO 8601: {formats}"))
            else:
                findings.append(Finding(point, "ok", f"formats seen: {formats}"))
    types_ok = not any(f.point.startswith("field ") and f.verdict == "broken" for f in findings)
    absent = [rule.path for rule in FIELD_RULES if not fields[rule.path].present]
    if types_ok:
        detail = f"the {len(FIELD_RULES)} fields the normaliser reads have the types it reads"
        if absent:
            detail += "; absent from every event: " + ", ".join(absent)
        findings.append(Finding("fields", "ok", detail))
    unknown = Counter(
        key
        for event in events
        if isinstance(event, dict)
        for key in event
        if key not in KNOWN_FIELDS
    )
    if unknown:
        listed = ", ".join(f"{key} ({n})" for key, n in sorted(unknown.items()))
        findings.append(Finding("new fields", "note", f"never seen before: {listed}"))
    ids = fields["id"].types
    if len(ids) > 1:
        findings.append(Finding("id type", "note", f"mixed: {_counts(ids)}"))
    elif ids:
        findings.append(Finding("id type", "ok", _counts(ids)))
    return findings


def catalogue_findings(events: list[Any]) -> list[Finding]:
    venues: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for event in events:
        if not isinstance(event, dict):
            continue
        title = _at(event, "location.title")
        if isinstance(title, str) and title.strip() and venue_hosting(title) is None:
            venues[title.strip()] += 1
        category = event.get("category")
        if (
            isinstance(category, str)
            and category.strip()
            and category_by_id(category.strip().lower()) is None
        ):
            categories[category.strip()] += 1
    findings = []
    if venues:
        findings.append(
            Finding("venues", "note", f"not in the skill's catalogue: {_counts(venues)}")
        )
    else:
        findings.append(Finding("venues", "ok", "every venue is in the skill's catalogue"))
    if categories:
        findings.append(
            Finding("categories", "note", f"not in the skill's catalogue: {_counts(categories)}")
        )
    else:
        findings.append(Finding("categories", "ok", "every category is in the skill's catalogue"))
    return findings


def normaliser_finding(events: list[Any], max_ratio: float) -> Finding:
    """The normaliser's own verdict on the first page (the window left wide open)."""
    reasons: Counter[str] = Counter()
    for event in events:
        outcome = normalise_event(event, tz=_TZ, window=_WIDE_WINDOW, last_updated=0)
        reason = getattr(outcome, "reason", None)
        if reason is not None and reason != RejectReason.OUTSIDE_WINDOW:
            reasons[str(reason)] += 1
    refused = sum(reasons.values())
    if not refused:
        return Finding("normaliser", "ok", f"accepts all {len(events)} events")
    detail = f"refuses {refused} of {len(events)} events: {_counts(reasons)}"
    verdict: Verdict = "broken" if refused > max_ratio * len(events) else "note"
    if verdict == "broken":
        detail += f" (more than MAX_REJECT_RATIO {max_ratio:g}: the run would be degraded)"
    return Finding("normaliser", verdict, detail)


def _at(event: Mapping[str, Any], path: str) -> object:
    value: object = event
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "object" if isinstance(value, dict) else type(value).__name__


def _readable_instant(shape: str) -> bool:
    sample = shape.replace("9", "1")
    try:
        datetime.fromisoformat(sample.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _counts(counter: Mapping[str, int]) -> str:
    return ", ".join(f"{key} ({n})" for key, n in sorted(counter.items(), key=_by_count))


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
