"""The calendar contract the code relies on, and a judgement of what a site served. Pure.

``calendar check`` fetches what one producer run fetches up to its first pages (the token
script, the calendar page, the first events page) plus two probes (rows 1-3, to see whether
``endRow`` is inclusive; and the page past ``count``), then hands them here as an
``Observation``. ``judge`` names each point of the contract: ``ok``, ``note`` (something the
client copes with, worth knowing) or ``broken`` (a run would fail, or store nonsense).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from villages_sync.calendar_api.site_session import _TOKEN_PATTERNS, token_problem
from villages_sync.models import DateWindow, RejectReason
from villages_sync.normalise import normalise_event
from villages_sync.skill.catalog import category_by_id, venue_hosting

Verdict = Literal["ok", "note", "broken"]
REPORT_COLUMNS = 80
_TZ = ZoneInfo("America/New_York")
_WIDE_WINDOW = DateWindow(first=date(1970, 1, 1), last=date(9998, 12, 31))


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
# Every top-level field PROTOCOL.md records (the normaliser reads some; the rest are known).
KNOWN_FIELDS = frozenset(
    {
        "id", "title", "description", "excerpt", "category", "subcategories", "start", "end",
        "allDay", "cancelled", "featured", "enrolement", "location", "address", "geo",
        "image", "url", "otherInfo",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PageSeen:
    """One events request the check made, and what came back (``status`` None: no answer)."""

    purpose: str  # "first page", "rows 1-3", "past the count"
    start_row: int
    end_row: int
    status: int | None
    body: bytes | None


@dataclass(frozen=True, slots=True)
class RequestTiming:
    url: str
    status: int | None
    seconds: float | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """What the producer's client met, up to its first pages."""

    site: str  # the base URL, or "the real site"
    page_size: int
    script_status: int | None  # None: never answered
    script: str | None
    cookies: tuple[str, ...]  # names of the cookies the session holds
    pages: tuple[PageSeen, ...]
    client_error: str = ""  # the client's own CalendarError, when it stopped
    timings: tuple[RequestTiming, ...] = ()
    max_reject_ratio: float = 0.02  # the producer's MAX_REJECT_RATIO


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


@dataclass(slots=True)
class Judgement:
    site: str
    findings: list[Finding]
    fields: dict[str, FieldSeen]
    events_judged: int
    timings: tuple[RequestTiming, ...]

    @property
    def holds(self) -> bool:
        return not self.broken

    @property
    def broken(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict == "broken"]

    def as_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "holds": self.holds,
            "broken": [f.point for f in self.broken],
            "findings": [
                {"point": f.point, "verdict": f.verdict, "detail": f.detail} for f in self.findings
            ],
            "events_judged": self.events_judged,
            "fields": {
                path: {
                    "present": seen.present,
                    "types": dict(seen.types),
                    **({"formats": dict(seen.formats)} if seen.formats else {}),
                }
                for path, seen in self.fields.items()
            },
            "timings": [
                {"url": t.url, "status": t.status, "seconds": _rounded(t.seconds), "error": t.error}
                for t in self.timings
            ],
        }


# --- the judgement ------------------------------------------------------------------------------


def judge(observation: Observation) -> Judgement:
    findings = [_token_finding(observation)]
    findings.append(_cookie_finding(observation.cookies))
    first, first_page = _first_page(observation, findings)
    events: list[Any] = first_page["events"] if first_page is not None else []
    fields: dict[str, FieldSeen] = {}
    if first_page is not None:
        findings.extend(_paging_findings(observation, first, first_page))
        fields = fields_seen(events)
        findings.extend(_field_findings(fields, events))
        findings.extend(_catalogue_findings(events))
        findings.append(_normaliser_finding(events, observation.max_reject_ratio))
    findings.append(_timing_finding(observation.timings))
    return Judgement(observation.site, findings, fields, len(events), observation.timings)


def token_spelling(script: str) -> str | None:
    """The credential's spelling as the script writes it, the token itself elided."""
    for pattern in _TOKEN_PATTERNS:
        match = pattern.search(script)
        if match:
            return match.group(0).replace(match.group("token"), "…")
    return None


def _token_finding(observation: Observation) -> Finding:
    point = "token script"
    if observation.script is None:
        status = observation.script_status
        why = f"HTTP {status}" if status is not None else "no answer"
        return Finding(point, "broken", f"not fetched ({why}): {observation.client_error}")
    spelling = token_spelling(observation.script)
    if spelling is None:
        return Finding(point, "broken", token_problem(observation.script))
    return Finding(point, "ok", f"credential found: {spelling}")


def _cookie_finding(cookies: tuple[str, ...]) -> Finding:
    if not cookies:
        return Finding("cookie", "note", "the calendar page set no cookie")
    return Finding("cookie", "ok", "the calendar page set " + ", ".join(sorted(cookies)))


def _first_page(
    observation: Observation, findings: list[Finding]
) -> tuple[PageSeen | None, dict[str, Any] | None]:
    """The first page when its shape is the contract's; otherwise a broken finding says why."""
    first = next((p for p in observation.pages if p.purpose == "first page"), None)
    point = "first page"
    if first is None or first.status is None:
        detail = (
            "the client stopped at the token script"
            if observation.script is None or token_spelling(observation.script) is None
            else observation.client_error or "the events API was never reached"
        )
        findings.append(Finding(point, "broken", f"not fetched: {detail}"))
        return first, None
    if first.status in (401, 403):
        findings.append(Finding(point, "broken", f"HTTP {first.status}: the API refused the token"))
        return first, None
    if first.status != 200 or first.body is None:
        detail = f"HTTP {first.status}" + (
            f": {observation.client_error}" if observation.client_error else ""
        )
        findings.append(Finding(point, "broken", detail))
        return first, None
    shape, data = page_shape(first.body)
    if data is None:
        findings.append(Finding(point, "broken", shape))
        return first, None
    count = data["count"]
    findings.append(
        Finding(point, "ok", f"'events' list of {len(data['events'])}, 'count' {count}")
    )
    if count == 0 and not data["events"]:
        findings.append(
            Finding(
                "events",
                "broken",
                "the calendar lists no events (count 0): nothing to judge, and a sync would "
                "store nothing",
            )
        )
        return first, None
    return first, data


def page_shape(body: bytes) -> tuple[str, dict[str, Any] | None]:
    """The page's JSON when it is ``{"events": [...], "count": n}``; else why not."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        start = body[:40].decode("utf-8", errors="replace")
        return f"not JSON: it starts {start!r}", None
    if not isinstance(data, dict):
        return f"a JSON {_json_type(data)}, not an object", None
    events, count = data.get("events"), data.get("count")
    if isinstance(events, list) and _json_type(count) == "int" and count >= 0:
        return "ok", data
    keys = sorted(str(k) for k in data)
    lists = [k for k in keys if isinstance(data[k], list)]
    numbers = [k for k in keys if _json_type(data[k]) == "int"]
    if not isinstance(events, list) and lists and numbers:
        return (
            f"'{'/'.join(lists)}'/'{'/'.join(numbers)}' instead of 'events'/'count' "
            f"(its keys: {', '.join(keys)})",
            None,
        )
    wrong = "no 'events' list" if not isinstance(events, list) else f"'count' is {count!r:.30}"
    return f"{wrong} (its keys: {', '.join(keys) or 'none'})", None


def _paging_findings(
    observation: Observation, first: PageSeen | None, data: dict[str, Any]
) -> list[Finding]:
    findings = []
    rows, count, asked = len(data["events"]), data["count"], observation.page_size
    expected = min(asked, count)
    if rows == expected:
        detail = f"{asked} rows asked, {rows} served"
        findings.append(Finding("page size", "ok", detail))
    elif rows < expected:
        detail = f"capped: {rows} rows served for {asked} asked (the client pages by rows served)"
        findings.append(Finding("page size", "note", detail))
    else:
        detail = f"{rows} rows served for {asked} asked"
        findings.append(Finding("page size", "note", detail))
    if rows > count:
        findings.append(
            Finding(
                "count",
                "broken",
                f"the first page holds {rows} rows but 'count' is {count}: every run would "
                "be flagged as drifted",
            )
        )
    first_ids = [_id_of(e) for e in data["events"]]
    findings.append(_end_row_finding(observation, first_ids))
    findings.append(_past_count_finding(observation, first_ids, count))
    return findings


def _end_row_finding(observation: Observation, first_ids: list[object]) -> Finding:
    point = "endRow"
    probe = next((p for p in observation.pages if p.purpose == "rows 1-3"), None)
    if probe is None or len(first_ids) < 4:
        return Finding(point, "note", "not probed: the first page has fewer than 4 rows")
    _, data = page_shape(probe.body or b"") if probe.status == 200 else ("", None)
    if data is None:
        return Finding(point, "note", f"the probe of rows 1-3 failed (HTTP {probe.status})")
    ids = [_id_of(e) for e in data["events"]]
    asked = probe.end_row - probe.start_row
    if ids and ids[0] != first_ids[probe.start_row]:
        return Finding(
            point,
            "broken",
            f"startRow={probe.start_row} began with id {ids[0]!r}, not row {probe.start_row} "
            f"of the first page ({first_ids[probe.start_row]!r}): startRow is not an offset",
        )
    if len(ids) == asked:
        return Finding(point, "ok", "exclusive (startRow=1&endRow=3 served rows 1-2)")
    if len(ids) == asked + 1:
        return Finding(
            point, "note", "inclusive (startRow=1&endRow=3 served rows 1-3); the client copes"
        )
    return Finding(point, "note", f"startRow=1&endRow=3 served {len(ids)} rows")


def _past_count_finding(observation: Observation, first_ids: list[object], count: int) -> Finding:
    point = "past the count"
    probe = next((p for p in observation.pages if p.purpose == "past the count"), None)
    if probe is None:
        return Finding(point, "note", "not probed")
    _, data = page_shape(probe.body or b"") if probe.status == 200 else ("", None)
    if data is None:
        return Finding(point, "note", f"startRow={probe.start_row} answered HTTP {probe.status}")
    ids = [_id_of(e) for e in data["events"]]
    if not ids:
        return Finding(point, "ok", f"startRow={probe.start_row} is empty")
    new = [i for i in ids if i not in set(first_ids)]
    if count > len(first_ids) or not new:
        # Rows the first page never held may be ordinary later rows (a count past one page).
        return Finding(
            point,
            "note",
            f"startRow={probe.start_row} served {len(ids)} rows (the last page again, or "
            "rows past a count the first page did not reach); the client reads on while "
            "they bring new events",
        )
    return Finding(
        point,
        "broken",
        f"{len(new)} events served past 'count' {count}: the count under-reports, and every "
        "run would be flagged as drifted",
    )


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
            entry.types[_json_type(value)] += 1
            if rule.path in DATE_FIELDS and isinstance(value, str):
                entry.formats[date_format(value)] += 1
    return seen


def date_format(text: str) -> str:
    return re.sub(r"\d", "9", text[:40])


def _field_findings(fields: Mapping[str, FieldSeen], events: list[Any]) -> list[Finding]:
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


def _catalogue_findings(events: list[Any]) -> list[Finding]:
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


def _normaliser_finding(events: list[Any], max_ratio: float) -> Finding:
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


def _timing_finding(timings: tuple[RequestTiming, ...]) -> Finding:
    answered = [t.seconds for t in timings if t.seconds is not None]
    errors = sum(1 for t in timings if t.error or (t.status is not None and t.status >= 400))
    if not answered:
        return Finding("timings", "note", "no request was answered")
    detail = f"{len(timings)} requests, slowest {max(answered):.2f} s, total {sum(answered):.2f} s"
    if errors:
        detail += f", {errors} failed or refused (retried, renewed or reported above)"
    return Finding("timings", "note" if errors else "ok", detail)


# --- the report ---------------------------------------------------------------------------------


def render(judgement: Judgement, *, width: int = REPORT_COLUMNS) -> str:
    broken = judgement.broken
    if broken:
        points = "point" if len(broken) == 1 else "points"
        headline = f"the calendar contract is BROKEN at {len(broken)} {points}: " + ", ".join(
            f.point for f in broken
        )
    else:
        headline = "the calendar contract holds"
    lines = textwrap.wrap(f"{judgement.site}: {headline}", width, subsequent_indent="  ")
    label_width = max(len(f.point) for f in judgement.findings)
    for finding in judgement.findings:
        verdict = finding.verdict.upper() if finding.verdict == "broken" else finding.verdict
        prefix = f"  {verdict:<6} {finding.point:<{label_width}}  "
        lines.extend(
            textwrap.wrap(
                finding.detail,
                width,
                initial_indent=prefix,
                subsequent_indent=" " * len(prefix),
                break_on_hyphens=False,
            )
            or [prefix.rstrip()]
        )
    return "\n".join(lines)


# --- helpers ------------------------------------------------------------------------------------


def _at(event: Mapping[str, Any], path: str) -> object:
    value: object = event
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _id_of(event: object) -> object:
    return event.get("id") if isinstance(event, dict) else None


def _json_type(value: object) -> str:
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


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
