"""Fixtures every tier shares: a moto server over HTTP on 127.0.0.1, and fake AWS credentials.

DynamoDB on two backends: every test that uses the ``dynamodb``, ``deployment`` or
``dynamodb_endpoint`` fixture (directly or through another fixture) runs once per backend
chosen with ``--dynamodb-backend``: ``moto`` (the default emulator) and ``local`` (DynamoDB
Local, AWS's own implementation; SQS stays on moto). ``auto`` (the default) means moto, plus
DynamoDB Local when ``make dynamodb-local`` has installed it. Test ids end in ``[moto]`` or
``[local]``. Three markers narrow it down (a backend they exclude is listed as skipped, with
the reason, so every run says what ran once):

- ``@pytest.mark.dynamodb_backends("moto", reason=...)``: the test runs on those backends only.
- ``@pytest.mark.dynamodb_once(reason=...)``: the test runs on one backend, DynamoDB Local when
  the session has it (AWS's own implementation), else moto; for long tests, to keep
  ``make test`` short.
- ``@pytest.mark.dynamodb_gap("local", reason=...)``: a known gap of that emulator; the test is
  skipped there with the reason (listed in docs/architecture.md, Testing).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
SUPPORT = Path(__file__).resolve().parent / "support"
DYNAMODB_BACKENDS = ("moto", "local")
_SELECTED = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dynamodb-backend",
        default="auto",
        metavar="auto|moto|local|moto,local",
        help="DynamoDB backends of the DynamoDB-facing tests (default auto: moto, plus "
        "DynamoDB Local when installed by `make dynamodb-local`)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dynamodb_backends(*names, reason): run only on these DynamoDB backends"
    )
    config.addinivalue_line(
        "markers", "dynamodb_gap(name, reason): a known gap of that emulator; skipped there"
    )
    config.addinivalue_line(
        "markers", "dynamodb_once(reason): one backend only: DynamoDB Local if selected, else moto"
    )
    config.stash[_SELECTED] = _selected_backends(config.getoption("--dynamodb-backend"))


def _selected_backends(option: str) -> list[str]:
    from villages_sync_ops.local.dynamodb_local import INSTALL_HINT, is_installed

    if option.strip() == "auto":
        return list(DYNAMODB_BACKENDS) if is_installed() else ["moto"]
    names = [name.strip() for name in option.split(",") if name.strip()]
    unknown = sorted(set(names) - set(DYNAMODB_BACKENDS))
    if unknown or not names:
        raise pytest.UsageError(f"--dynamodb-backend: unknown {unknown or option!r}")
    if "local" in names and not is_installed():
        raise pytest.UsageError(f"--dynamodb-backend=local: {INSTALL_HINT}")
    return names


def pytest_report_header(config: pytest.Config) -> str:
    return f"dynamodb backends: {', '.join(config.stash[_SELECTED])}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each DynamoDB-facing test once per selected backend; a backend its markers exclude is
    still listed, skipped with the marker's reason, so every run says what ran only once."""
    if "dynamodb_backend" not in metafunc.fixturenames:
        return
    skipped: dict[str, str] = {}
    for marker in metafunc.definition.iter_markers("dynamodb_backends"):
        for name in set(DYNAMODB_BACKENDS) - set(marker.args):
            skipped.setdefault(name, f"{'/'.join(marker.args)} only: {marker.kwargs['reason']}")
    for marker in metafunc.definition.iter_markers("dynamodb_gap"):
        skipped.setdefault(marker.args[0], f"known gap: {marker.kwargs['reason']}")
    selected = metafunc.config.stash[_SELECTED]
    once = metafunc.definition.get_closest_marker("dynamodb_once")
    if once is not None:
        chosen = "local" if "local" in selected else selected[0]
        for name in set(selected) - {chosen}:
            skipped.setdefault(name, f"runs once, on {chosen}: {once.kwargs['reason']}")
    params = [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.skip(reason=f"{name}: {skipped[name]}")] if name in skipped else [],
        )
        for name in selected
    ]
    metafunc.parametrize("dynamodb_backend", params, indirect=True)


@pytest.fixture(scope="session", autouse=True)
def _aws_credentials() -> Iterator[None]:
    """Fake credentials, so nothing here can reach a real AWS account."""
    saved = {k: os.environ.get(k) for k in _AWS_VARS}
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"):
        os.environ.pop(name, None)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _package_logger_unrouted() -> None:
    """Each test starts with villages_sync's logger as a process without a handler has it
    (no handler, propagating, no level). A handler module imported in the test process (the
    skill's conversations call its ASK skill directly; a test reads a constant of the
    consumer's) routes it through its function's logger at import, as in Lambda, which would
    otherwise hide the package's records from the tests after it (``caplog``)."""
    package = logging.getLogger("villages_sync")
    package.handlers = []
    package.propagate = True
    package.setLevel(logging.NOTSET)


_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_PROFILE",
)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server for the session, on a free loopback port; its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str) -> Iterator[str]:
    """The session's moto server, emptied before each test so tests never see each other's data."""
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    yield moto_server


@pytest.fixture
def dynamodb_backend(request: pytest.FixtureRequest) -> str:
    """ "moto" or "local": set per test by pytest_generate_tests."""
    return str(request.param)


@pytest.fixture(scope="session", autouse=True)
def _dynamodb_local_launch(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[subprocess.Popen, str] | None]:
    """DynamoDB Local launched as the session begins, when a collected test needs it, so the
    JVM starts while the first tests run; stopped when the session ends."""
    from villages_sync_ops.local.dynamodb_local import (
        endpoint_for,
        launch_dynamodb_local,
        stop_process,
    )
    from villages_sync_ops.local.emulator import free_port

    if not any(_on_dynamodb_local(item) for item in request.session.items):
        yield None
        return
    port = free_port()
    log_path = tmp_path_factory.mktemp("dynamodb-local") / "dynamodb-local.log"
    with log_path.open("ab") as log:
        process = launch_dynamodb_local(port, log=log, short_lived=True)
        try:
            yield process, endpoint_for(port)
        finally:
            stop_process(process)


def _on_dynamodb_local(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is None or item.get_closest_marker("skip") is not None:
        return False
    return callspec.params.get("dynamodb_backend") == "local"


@pytest.fixture(scope="session")
def dynamodb_local_server(_dynamodb_local_launch: tuple[subprocess.Popen, str] | None) -> str:
    """The session's DynamoDB Local, once it answers: its endpoint URL."""
    from villages_sync_ops.local.dynamodb_local import wait_until_ready

    assert _dynamodb_local_launch is not None, "no collected test runs on DynamoDB Local"
    process, endpoint = _dynamodb_local_launch
    wait_until_ready(endpoint, process, timeout=120)
    return endpoint


@pytest.fixture
def requires_dynamodb_local(request: pytest.FixtureRequest) -> None:
    """For tests of DynamoDB Local itself: skipped unless the session runs it as a backend."""
    if "local" not in request.config.stash[_SELECTED]:
        pytest.skip("DynamoDB Local is not a backend of this session (`make dynamodb-local`)")


@pytest.fixture
def dynamodb_endpoint(
    dynamodb_backend: str, moto_endpoint: str, request: pytest.FixtureRequest
) -> str:
    """Where this test's DynamoDB is, empty: moto (reset with SQS) or DynamoDB Local.

    DynamoDB Local has no reset: its tables are deleted instead (in memory, a few ms each).
    Before the test, not after, so a crashed test's tables never leak into the next one.
    """
    if dynamodb_backend == "moto":
        return moto_endpoint
    endpoint = str(request.getfixturevalue("dynamodb_local_server"))
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    for page in client.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            client.delete_table(TableName=name)
    return endpoint


@pytest.fixture
def dynamodb(dynamodb_endpoint: str):
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION)


@pytest.fixture
def sqs(moto_endpoint: str):
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def deployment(request: pytest.FixtureRequest, moto_endpoint: str, dynamodb_endpoint: str):
    """The template's queues in the (freshly reset) moto server, its tables in the test's
    DynamoDB backend (moto too, or an emptied DynamoDB Local).

    With the change feed (the events table's stream and ChangesFunction's mapping) only for
    tests marked ``change_feed`` and the end-to-end tests (whose CLI syncs deploy it): the feed
    reads the table and writes nothing the sync reads, so the other tests store the same
    without it, and it is costly on the emulators (every run publishes each new event once;
    moto copies a table's stream records on every transaction, so a long test's sweeps slow
    down as its stream grows). The CLI's syncs and the demo keep it.
    """
    from villages_sync_ops.local.pipeline import deploy_locally

    return deploy_locally(
        moto_endpoint,
        dynamodb_endpoint_url=dynamodb_endpoint,
        environment="test",
        region=REGION,
        # the command line's syncs deploy the change feed: the end-to-end tests' too
        change_feed=request.node.get_closest_marker("change_feed") is not None
        or "e2e" in request.node.path.parts,
    )


@pytest.fixture
def make_item():
    """Builds a valid stored event (EventItem) with overridable fields."""
    from villages_sync.normalise import content_hash_of

    def build(event_id: str = "1001", **fields):
        item = {
            "event_id": event_id,
            "title": f"Concert {event_id}",
            "description": "A band on the square.",
            "event_date": "2026-11-24",
            "start_time": "17:00",
            "end_time": "21:00",
            "location": "Spanish Springs Town Square",
            "category": "entertainment",
            "last_updated": 1795000000,
            "ttl": 1802800000,
            "start_iso": "2026-11-24T17:00:00-05:00",
            "all_day": False,
            "cancelled": False,
            "featured": False,
            "subcategories": ["classic-rock"],
        }
        item.update(fields)
        item.pop("content_hash", None)
        item["content_hash"] = content_hash_of(item)
        return item

    return build


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """template.yaml, parsed (once per test module)."""
    from villages_sync_ops.local.template import load_template

    return load_template()


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> str:
    """The tests' handler module importable as ``handlers``, as from a Lambda task root."""
    monkeypatch.syspath_prepend(str(SUPPORT))
    monkeypatch.delitem(sys.modules, "handlers", raising=False)
    return "handlers"
