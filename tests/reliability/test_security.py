"""Security under faults: the token stays secret, TLS stays verified, credentials stay on the
API host, and scraped text cannot smuggle markup or control characters to the skill."""

from __future__ import annotations

import contextlib
import http.server
import logging
import threading
import zlib
from collections.abc import Iterator

import aiohttp
import pytest
from reliability_harness import today, unclean_fields
from villages_sync.calendar_api.transport import EVENTS_PAGE_LIMIT
from villages_sync.calendar_api.urls import EVENTS_PATH, SESSION_PATH, TOKEN_PATH
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="secrets in logs, metrics and errors: nothing of DynamoDB's semantics"
)

SECRET = "s3cr3t-Calendar-TOKEN-9f8e7d6c5b4a"


@pytest.fixture
def small_calendar():
    return generate_events(80, seed=81, today=today())


def test_token_never_in_logs_metrics_errors_or_run_records(
    harness, small_calendar, caplog, capsys, fault_report
):
    # Given a calendar whose token rotates mid-run, then one that refuses every token, then
    # one that fails with 5xx: every path that logs a warning or an error
    caplog.set_level(logging.DEBUG)
    tokens = {SECRET}
    reports = []
    with RunningCalendar(
        small_calendar, token=SECRET, faults=Faults(rotate_token_after_requests=1)
    ) as calendar:
        # When runs sync it through each fault
        reports.append(harness.sync(calendar.base_url, PAGE_SIZE="20", LOG_LEVEL="DEBUG"))
        tokens.add(calendar.calendar.token)
        calendar.faults.reject_all_tokens = True
        reports.append(harness.sync(calendar.base_url, MAX_ATTEMPTS="3", LOG_LEVEL="DEBUG"))
        calendar.faults.reject_all_tokens = False
        calendar.faults.fail_first_n = 10**6
        reports.append(harness.sync(calendar.base_url, MAX_ATTEMPTS="3", LOG_LEVEL="DEBUG"))

    # Then no token appears in any output: function logs and EMF metrics, Python logging,
    # stdout/stderr, producer payloads and errors, and the run records
    captured = capsys.readouterr()
    runs = harness.deployment.runs.recent_runs(limit=10)
    outputs = {
        "function log + metrics": harness.log.getvalue(),
        "python logging": caplog.text,
        "stdout": captured.out,
        "stderr": captured.err,
        "reports": repr(reports),
        "run records": repr(runs),
    }
    assert len(tokens) == 2 and reports[0].succeeded and not reports[1].succeeded
    assert "token" in " ".join(outputs.values()).lower()  # the outputs do talk about it
    leaks = {name for name, text in outputs.items() for token in tokens if token in text}
    assert leaks == set()
    fault_report.record(
        "calendar token in logs, metrics, errors (rotation, refusal, 5xx)",
        "the token never appears in any output",
        f"{len(tokens)} tokens searched in {sum(len(t) for t in outputs.values())} characters "
        f"of {len(outputs)} outputs: 0 occurrences",
    )


def test_calendar_client_keeps_tls_verification_on(
    harness, small_calendar, monkeypatch, fault_report
):
    # Given every aiohttp session and request the producer makes, recorded
    connectors: list[aiohttp.BaseConnector] = []
    requests: list[dict] = []
    original_init = aiohttp.ClientSession.__init__
    original_request = aiohttp.ClientSession._request

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        connectors.append(self.connector)

    def recording_request(self, method, url, **kwargs):
        requests.append({"url": str(url), **kwargs})
        return original_request(self, method, url, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", recording_init)
    monkeypatch.setattr(aiohttp.ClientSession, "_request", recording_request)

    # When a run scrapes the calendar
    with RunningCalendar(small_calendar) as calendar:
        report = harness.sync(calendar.base_url)

    # Then the session's connector verifies certificates, and no request turns that off
    assert report.succeeded and connectors and requests
    for connector in connectors:
        assert connector._ssl is True  # aiohttp's default: verify against the system CAs
    for kwargs in requests:
        assert kwargs.get("ssl", True) not in (False,)
        assert kwargs.get("verify_ssl", True) is not False
        assert "ssl_context" not in kwargs and "fingerprint" not in kwargs
    fault_report.record(
        "TLS verification",
        "the calendar client never turns certificate checks off",
        f"{len(connectors)} session(s) with a verifying connector, {len(requests)} requests "
        "without ssl=False",
    )


def test_calendar_client_refuses_offsite_redirect_and_sends_token_nowhere_else(
    harness, small_calendar, fault_report
):
    # Given a synced table, and an API that redirects every events request to another host
    # (a second stand-in, reached by another name, that records whatever it receives)
    with RunningCalendar(small_calendar) as calendar:
        harness.sync(calendar.base_url)
    before = harness.stored_hashes()
    with RunningCalendar(small_calendar) as offsite:
        target = offsite.base_url.replace("127.0.0.1", "localhost") + "/events/"
        faults = Faults(redirect_offsite=True, redirect_target=target)
        with RunningCalendar(small_calendar, faults=faults, token=SECRET) as calendar:
            # When a run scrapes it
            report = harness.sync(calendar.base_url, MAX_ATTEMPTS="3")
            api_events_requests = len(calendar.calendar.requests_to("/events/"))
        offsite_requests = list(offsite.requests)

    # Then the run failed without following the redirect: the API host was asked, the other
    # host saw nothing (so never the token), and nothing was deleted
    assert not report.succeeded
    assert "another host" in report.run.error
    assert offsite_requests == []
    assert api_events_requests >= 1
    assert harness.stored_hashes() == before
    fault_report.record(
        "calendar redirects off-site",
        "redirect refused; the token goes to the API host only; nothing deleted",
        f"run failed ({report.run.error[:60]}...), off-site host got "
        f"{len(offsite_requests)} requests",
        events=len(before),
    )


HOSTILE_TEXT = [
    "<script>alert('x')</script>Bingo",
    "&lt;script&gt;alert(1)&lt;/script&gt;Jazz",
    "<img src=x onerror=alert(1)>Line dance",
    "Pickle\x00ball\x07 \x1b[31mred",
    "\u202eevil\u202c reversed",
    "zero\u200bwidth\u200d\ufeff",
    "&#60;iframe src=//x&#62;Movie",
    "<<b>>nested<</b>>",
    "para\u2028graph\u2029",
    "&amp;lt;b&amp;gt;double-encoded",
    "<style>body{display:none}</style>Choir",
    "Tab\tand\r\nnewline",
]


def test_hostile_titles_and_descriptions_reach_the_skill_as_plain_text(harness, fault_report):
    # Given a calendar whose every event carries hostile markup and control characters
    events = generate_events(len(HOSTILE_TEXT) * 4, seed=82, today=today())
    for index, event in enumerate(events):
        hostile = HOSTILE_TEXT[index % len(HOSTILE_TEXT)]
        event["title"] = f"{hostile} #{index}"
        event["description"] = f"<p>{hostile}</p>{HOSTILE_TEXT[(index + 3) % len(HOSTILE_TEXT)]}"
        event["location"]["title"] = HOSTILE_TEXT[(index + 5) % len(HOSTILE_TEXT)] + " Square"
        event["category"] = HOSTILE_TEXT[(index + 7) % len(HOSTILE_TEXT)]

    # When a run syncs it, and the skill reads every day through the date index
    with RunningCalendar(events) as calendar:
        report = harness.sync(calendar.base_url)
    read_back = [
        item
        for day in report.run.window.days()
        for item in harness.deployment.events.events_on(day)
    ]

    # Then every text the skill reads is free of tags and of control/format characters
    assert report.succeeded and read_back
    bad = [(item["event_id"], unclean_fields(item)) for item in read_back if unclean_fields(item)]
    assert bad == []
    assert any("Bingo" in item["title"] for item in read_back)
    fault_report.count_input("hostile texts through a whole run", len(HOSTILE_TEXT))
    fault_report.record(
        "hostile titles/descriptions (script tags, entities, \\x00, \\u202e, ...)",
        "the skill reads plain text: no tags, no control or format characters",
        f"{len(read_back)} events read back through date-index, 0 with markup or controls",
        events=len(read_back),
    )


class _HostileCalendarHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (body, headers), as sent (a gzip body stays gzip)."""

    def do_GET(self) -> None:
        routes = self.server.routes  # type: ignore[attr-defined]
        body, headers = routes.get(self.path.split("?")[0], (b"", {}))
        self.send_response(200 if body else 404)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def hostile_calendar(routes: dict[str, tuple[bytes, dict]]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostileCalendarHandler)
    server.routes = routes  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def gzip_of_spaces(inflated_bytes: int) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1024 * 1024)
    parts = [squeeze.compress(b"{")]
    parts += [squeeze.compress(block) for _ in range(inflated_bytes // len(block))]
    return b"".join([*parts, squeeze.flush()])


def test_gzip_bomb_calendar_fails_the_run_naming_the_limit(harness, fault_report):
    # Given a calendar whose events page is 0.2 MB of gzip inflating to 200 MB
    bomb = gzip_of_spaces(200 * 1024 * 1024)
    routes = {
        TOKEN_PATH: (f'const dp_AUTH_TOKEN = "Basic {SECRET}";'.encode(), {}),
        SESSION_PATH: (b"<html></html>", {"Content-Type": "text/html"}),
        EVENTS_PATH: (bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"}),
    }

    # When a run syncs it
    with hostile_calendar(routes) as base_url:
        report = harness.sync(base_url)

    # Then the run failed, saying which limit, and nothing reached the queue or the table
    assert not report.succeeded and str(report.run.status) == "failed"
    assert f"the events page is larger than its limit of {EVENTS_PAGE_LIMIT.max_bytes}" in (
        report.run.error
    )
    assert harness.queue_count("EventsQueue") == 0 and harness.stored() == {}
    fault_report.record(
        "calendar: 0.2 MB gzip events page inflating to 200 MB",
        "run fails naming the limit; nothing enqueued or stored",
        f"failed ({report.run.error[-90:]})",
    )
