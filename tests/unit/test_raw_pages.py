"""The raw-pages capture format: what the writer keeps of each exchange, what it redacts, and
that ``load_recording`` reads it back as a replay serves it (no network: exchanges are built)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from villages_sync.calendar_api.exchange_log import Exchange
from villages_sync.calendar_api.raw_pages import RawPagesWriter
from villages_sync_ops.calendar_api.recordings import load_recording

TOKEN = "c2VjcmV0LXRva2Vu"


def exchange(url: str, status: int | None, body: bytes | None, **kw: object) -> Exchange:
    return Exchange(
        method="GET",
        url=url,
        request_headers={"Authorization": f"Basic {TOKEN}", "Cookie": "s=1"},
        started=1.0,
        status=status,
        body=body,
        finished=1.25,
        **kw,  # type: ignore[arg-type]
    )


def written(writer: RawPagesWriter, path: Path) -> list[dict]:
    path.write_bytes(writer.finish().read())
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_raw_pages_writer_redacts_token_userinfo_and_credential_query(tmp_path: Path) -> None:
    # Given a scrape's exchanges: the auth script carrying the token, a page echoing it,
    # a URL with user info and a key in its query, a non-UTF-8 body, a timeout
    writer = RawPagesWriter("run-1", 1700000000)
    script = f'var dp_AUTH_TOKEN = "Basic {TOKEN}";'.encode()
    writer.write(exchange("https://x.test/auth.js", 200, script,
                          response_headers=[("Content-Type", "text/javascript"),
                                            ("Set-Cookie", "s=secret")]))  # fmt: skip
    writer.write(exchange(f"https://u:p@x.test/events/?startRow=0&api_key={TOKEN}", 200,
                          f'{{"events": [], "count": 0, "echo": "{TOKEN}"}}'.encode()))  # fmt: skip
    writer.write(exchange("https://x.test/events/?startRow=100", 200, b"\xff\xfe"))
    writer.write(exchange("https://x.test/events/?startRow=200", None, None, error="TimeoutError"))

    # When the capture is finished and read
    lines = written(writer, tmp_path / "c.jsonl.gz")

    # Then a header, one object a page with its request; the token, cookies and credentials
    # are nowhere; a body that is not text is kept exactly (base64)
    assert lines[0] == {
        "format": "villages-sync-raw-pages", "version": 1, "run_id": "run-1",
        "started_at": 1700000000,
    }  # fmt: skip
    text = gzip.decompress((tmp_path / "c.jsonl.gz").read_bytes()).decode()
    assert TOKEN not in text and "secret" not in text and "u:p@" not in text
    assert "Cookie" not in text and "Authorization" not in text
    assert lines[1]["headers"] == [["Content-Type", "text/javascript"]]
    assert lines[1]["body"] == 'var dp_AUTH_TOKEN = "Basic REDACTED_TOKEN";'
    assert lines[2]["url"] == "https://x.test/events/?startRow=0&api_key=%5Bredacted%5D"
    assert lines[3]["body_base64"] == "//4="
    assert lines[4]["status"] is None and lines[4]["error"] == "TimeoutError"
    assert writer.pages == 4


def test_raw_pages_read_back_as_a_replay_serves_them(tmp_path: Path) -> None:
    # Given a capture with a retried page and a binary body
    writer = RawPagesWriter("run-2")
    writer.write(exchange("https://x.test/events/?startRow=0", 500, b"busy"))
    writer.write(exchange("https://x.test/events/?startRow=0", 200, b'{"events": []}'))
    writer.write(exchange("https://x.test/img", 200, b"\x89PNG\xff"))
    writer.write(exchange("https://x.test/slow", None, None, error="TimeoutError"))
    path = tmp_path / "c.jsonl.gz"
    written(writer, path)

    # When it is loaded for a replay
    interactions = load_recording(path)

    # Then every answered request, in order, byte for byte (the timeout has no answer)
    assert [(i.uri, i.answer.status, i.answer.body) for i in interactions] == [
        ("https://x.test/events/?startRow=0", 500, b"busy"),
        ("https://x.test/events/?startRow=0", 200, b'{"events": []}'),
        ("https://x.test/img", 200, b"\x89PNG\xff"),
    ]


def test_raw_pages_writer_that_fails_stops_quietly_and_says_why() -> None:
    # Given a writer whose file is already closed (a disk that failed, say)
    writer = RawPagesWriter("run-3")
    writer.close()

    # When an exchange finishes
    writer.write(exchange("https://x.test/events/", 200, b"{}"))

    # Then nothing is raised into the client's request, and the problem is kept for the record
    assert writer.problem.startswith("ValueError")
    assert writer.pages == 0


def test_raw_capture_errors_say_what_an_operator_can_act_on() -> None:
    import io

    import pytest
    from botocore.exceptions import ClientError
    from villages_sync.aws.raw_captures import RawCaptureError, get_capture, put_capture

    class Refusing:
        def __init__(self, code: str) -> None:
            self.code = code

        def _refuse(self, **_: object) -> None:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "Op")

        put_object = get_object = _refuse

    # Given S3 answering each way a capture can be refused; Then one sentence each
    cases = {
        "NoSuchBucket": "bucket b does not exist",
        "AccessDenied": "access to s3://b/raw-pages/r.jsonl.gz denied",
        "NoSuchKey": "is gone (captures expire after RawCaptureDays",
    }
    for code, sentence in cases.items():
        with pytest.raises(RawCaptureError, match=r"^[^\n]+$") as put:
            put_capture(Refusing(code), "b", "raw-pages/r.jsonl.gz", io.BytesIO(b""))
        with pytest.raises(RawCaptureError) as get:
            get_capture(Refusing(code), "b", "raw-pages/r.jsonl.gz", io.BytesIO())
        assert sentence in str(get.value), code
        assert code == "NoSuchKey" or sentence in str(put.value), code
