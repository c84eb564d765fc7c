"""The calendar contract the code relies on, and a judgement of what a site served. Pure.

``calendar check`` fetches what one producer run fetches up to its first pages (the token
script, the calendar page, the first events page) plus two probes (rows 1-3, to see whether
``endRow`` is inclusive; and the page past ``count``), then hands them here as an
``Observation``. ``judge`` names each point of the contract: ``ok``, ``note`` (something the
client copes with, worth knowing) or ``broken`` (a run would fail, or store nonsense).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import Any

from villages_sync.calendar_api.site_session import _TOKEN_PATTERNS, token_problem

from villages_sync_ops.calendar_api.contract_fields import (
    FieldSeen,
    Finding,
    catalogue_findings,
    field_findings,
    fields_seen,
    json_type,
    normaliser_finding,
)

REPORT_COLUMNS = 80


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
        findings.extend(field_findings(fields, events))
        findings.extend(catalogue_findings(events))
        findings.append(normaliser_finding(events, observation.max_reject_ratio))
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
        return f"a JSON {json_type(data)}, not an object", None
    events, count = data.get("events"), data.get("count")
    # isinstance narrows ``count`` for the comparison; json_type also refuses a bool
    if (
        isinstance(events, list)
        and isinstance(count, int)
        and json_type(count) == "int"
        and count >= 0
    ):
        return "ok", data
    keys = sorted(str(k) for k in data)
    lists = [k for k in keys if isinstance(data[k], list)]
    numbers = [k for k in keys if json_type(data[k]) == "int"]
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


def _id_of(event: object) -> object:
    return event.get("id") if isinstance(event, dict) else None


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
