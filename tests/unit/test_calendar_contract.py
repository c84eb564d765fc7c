"""calendar_api.contract: the judgement of what a calendar served, as tables. Pure."""

from __future__ import annotations

import json
from typing import Any

import pytest
from villages_sync_ops.calendar_api.contract import (
    Observation,
    PageSeen,
    RequestTiming,
    judge,
    page_shape,
    render,
    token_spelling,
)
from villages_sync_ops.calendar_api.contract_fields import date_format

SCRIPT = "var a=1;const dp_AUTH_TOKEN = 'Basic dG9rZW4=';"


def event(event_id: object = 1, **fields: Any) -> dict[str, Any]:
    base = {
        "id": event_id,
        "title": "Earth Beat",
        "start": {"date": "2026-11-14T22:00:00.000Z", "type": "time"},
        "end": {"date": "2026-11-15T02:00:00.000Z", "type": "time"},
        "allDay": False,
        "cancelled": False,
        "featured": False,
        "category": "entertainment",
        "location": {"title": "Spanish Springs Town Square", "category": "town-squares"},
    }
    base.update(fields)
    return base


def body(events: list[Any], count: int | None = None) -> bytes:
    return json.dumps({"events": events, "count": len(events) if count is None else count}).encode()


def observation(
    first: bytes | None = None,
    *,
    status: int | None = 200,
    probe: bytes | None = None,
    past: bytes | None = b'{"events": [], "count": 5}',
    script: str | None = SCRIPT,
    page_size: int = 100,
    timings: tuple[RequestTiming, ...] = (RequestTiming("u", 200, 0.1),),
) -> Observation:
    events = [event(i) for i in range(5)]
    first = body(events) if first is None else first
    probe = body(events[1:3], 5) if probe is None else probe
    pages = [PageSeen("first page", 0, page_size, status, first)]
    pages.append(PageSeen("rows 1-3", 1, 3, 200, probe))
    pages.append(PageSeen("past the count", 5, 5 + page_size, 200, past))
    return Observation(
        site="http://calendar.test",
        page_size=page_size,
        script_status=200 if script is not None else 503,
        script=script,
        cookies=("session",),
        pages=tuple(pages),
        client_error="" if script is not None else "main.js: gave up after 4 attempts: HTTP 503",
        timings=timings,
    )


def verdicts(obs: Observation) -> dict[str, str]:
    return {f.point: f.verdict for f in judge(obs).findings}


def test_contract_a_well_behaved_calendar_holds() -> None:
    judgement = judge(observation())

    assert judgement.holds
    assert {f.verdict for f in judgement.findings} == {"ok"}
    fields = next(f for f in judgement.findings if f.point == "fields")
    assert "absent from every event: description, excerpt, subcategories" in fields.detail
    assert judgement.fields["start.date"].formats == {"9999-99-99T99:99:99.999Z": 5}
    assert judgement.fields["id"].types == {"int": 5}


@pytest.mark.parametrize(
    ("case", "obs", "point", "verdict", "detail_has"),
    [
        (
            "data/total instead of events/count",
            observation(b'{"data": [], "total": 3}'),
            "first page",
            "broken",
            "'data'/'total' instead of 'events'/'count'",
        ),
        ("not JSON", observation(b"<!DOCTYPE html>"), "first page", "broken", "not JSON"),
        ("a list", observation(b"[1, 2]"), "first page", "broken", "JSON list"),
        (
            "count text",
            observation(b'{"events": [], "count": "3"}'),
            "first page",
            "broken",
            "'count'",
        ),
        ("token refused", observation(status=401), "first page", "broken", "refused the token"),
        ("empty", observation(body([], 0)), "events", "broken", "no events"),
        ("script down", observation(script=None), "token script", "broken", "HTTP 503"),
        (
            "template token",
            observation(script="h={authorization:`Basic ${k}`}"),
            "token script",
            "broken",
            "template variable",
        ),
        (
            "capped",
            observation(body([event(i) for i in range(40)], 250), page_size=100),
            "page size",
            "note",
            "capped: 40 rows",
        ),
        (
            "inclusive endRow",
            observation(probe=body([event(i) for i in range(1, 4)], 5)),
            "endRow",
            "note",
            "inclusive",
        ),
        (
            "startRow not an offset",
            observation(probe=body([event(0), event(1)], 5)),
            "endRow",
            "broken",
            "not an offset",
        ),
        (
            "more rows than count",
            observation(body([event(i) for i in range(5)], 3)),
            "count",
            "broken",
            "5 rows but 'count' is 3",
        ),
        (
            "events past a count that covered one page",
            observation(past=body([event(90), event(91)], 5)),
            "past the count",
            "broken",
            "2 events served past 'count' 5",
        ),
        (
            "last page again past the count",
            observation(past=body([event(3), event(4)], 5)),
            "past the count",
            "note",
            "last page again",
        ),
        (
            "string ids",
            observation(body([event(str(i)) for i in range(5)])),
            "id type",
            "ok",
            "str (5)",
        ),
        (
            "missing title",
            observation(
                body([{k: v for k, v in event(i).items() if k != "title"} for i in range(5)])
            ),
            "field title",
            "broken",
            "missing from 5 of 5 events",
        ),
        (
            "flags as text",
            observation(body([event(i, cancelled="no") for i in range(5)])),
            "field cancelled",
            "broken",
            "expected bool: str (5)",
        ),
        (
            "US dates",
            observation(body([event(i, start={"date": "11/14/2026 10:00 PM"}) for i in range(5)])),
            "field start.date",
            "broken",
            "99/99/9999 99:99 PM",
        ),
        (
            "new field",
            observation(body([event(i, ticketPrice=5) for i in range(5)])),
            "new fields",
            "note",
            "ticketPrice (5)",
        ),
        (
            "unknown venue",
            observation(body([event(i, location={"title": "Moon Base"}) for i in range(5)])),
            "venues",
            "note",
            "Moon Base (5)",
        ),
        (
            "unknown category",
            observation(body([event(i, category="bingo") for i in range(5)])),
            "categories",
            "note",
            "bingo (5)",
        ),
        (
            "retries",
            observation(timings=(RequestTiming("u", 500, 0.2), RequestTiming("u", 200, 0.1))),
            "timings",
            "note",
            "1 failed or refused",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 50 else "",
)
def test_contract_point_judged(
    case: str, obs: Observation, point: str, verdict: str, detail_has: str
) -> None:
    judgement = judge(obs)

    found = {f.point: f for f in judgement.findings}
    assert found[point].verdict == verdict, found[point]
    assert detail_has in found[point].detail
    if verdict == "broken":
        assert not judgement.holds


def test_contract_normaliser_refusing_more_than_the_ratio_is_broken() -> None:
    events = [event(i) for i in range(50)] + [event(99, start={"date": "soon"})]

    judgement = judge(observation(body(events, 51)))

    normaliser = next(f for f in judgement.findings if f.point == "normaliser")
    assert normaliser.verdict == "note"  # 1 of 51 is under 2 %
    events.append(event(98, start={"date": "later"}))
    judgement = judge(observation(body(events, 52)))
    normaliser = next(f for f in judgement.findings if f.point == "normaliser")
    assert (normaliser.verdict, "bad_start (2)" in normaliser.detail) == ("broken", True)


@pytest.mark.parametrize(
    ("script", "spelling"),
    [
        ("const dp_AUTH_TOKEN = 'Basic dG9rZW4=';", "dp_AUTH_TOKEN = 'Basic …'"),
        ('headers:{Authorization:"Basic 64f7873ca215d1eb1f72a13f"}', 'Authorization:"Basic …"'),
        ("headers:{authorization:`Basic abc123`}", "authorization:`Basic …`"),
        ("nothing here", None),
    ],
)
def test_token_spelling_names_the_spelling_without_the_token(
    script: str, spelling: str | None
) -> None:
    assert token_spelling(script) == spelling


@pytest.mark.parametrize(
    ("page", "shape"),
    [
        (b'{"events": [], "count": 0}', "ok"),
        (b'{"events": {}, "count": 0}', "no 'events' list (its keys: count, events)"),
        (b'{"events": [], "count": -1}', "'count' is -1 (its keys: count, events)"),
        (b'{"events": [], "count": true}', "'count' is True (its keys: count, events)"),
        (b'{"items": [1], "n": 1}', "'items'/'n' instead of 'events'/'count' (its keys: items, n)"),
    ],
)
def test_page_shape_says_what_is_wrong(page: bytes, shape: str) -> None:
    assert page_shape(page)[0] == shape


def test_date_format_masks_digits() -> None:
    assert date_format("2026-11-14T22:00:00.000Z") == "9999-99-99T99:99:99.999Z"


def test_render_fits_80_columns_and_names_each_broken_point() -> None:
    judgement = judge(observation(b'{"data": [], "total": 3}'))

    text = render(judgement)

    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.splitlines()[0].startswith("http://calendar.test: the calendar contract is BROKEN")
    assert "BROKEN first page" in " ".join(text.split())
    assert judgement.as_json()["broken"] == ["first page"]
