"""``villages-sync calendar check | record | serve --replay``: first contact with a calendar.

``check`` judges what the producer's own client meets against the contract the code relies on
(``calendar_api.contract``); ``record`` keeps one whole scrape as a VCR.py cassette;
``serve --replay`` serves a cassette back on 127.0.0.1 so any recorded run can be re-synced.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from villages_sync.settings import CalendarSettings, ProducerSettings, SettingsError

from villages_sync_ops.cli.errors import CommandError, UsageError
from villages_sync_ops.cli.summaries import EXIT_FAILED, EXIT_OK

DESCRIPTION = """\
serve   a stand-in calendar on 127.0.0.1 (--port, --events, --seed); with
        --replay FILE, a recording served back (a cassette, or a run's raw
        pages from `runs capture`): each request answered as recorded, then
        404 naming it
check   the producer's client as far as the first events page, judged
        against the contract the code relies on; exit 1 naming each broken
        point (--json: every finding)
record  one whole scrape by the producer's client, every request and answer
        in a VCR.py cassette (--out FILE), credentials and cookies redacted
"""


def add_arguments(calendar: argparse.ArgumentParser, url_type: Callable[[str], str]) -> None:
    """The options of check, record and serve --replay (one block beside `serve`'s own)."""
    calendar.description = DESCRIPTION
    calendar.formatter_class = argparse.RawDescriptionHelpFormatter
    calendar.add_argument(
        "--base-url",
        type=url_type,
        help="check/record: the calendar's base URL (default: the real site, as the producer "
        "uses it; CALENDAR_BASE_URL is honoured too)",
    )
    calendar.add_argument("--json", action="store_true", help="check: the report as JSON")
    calendar.add_argument("--out", metavar="FILE", help="record: where to write the cassette")
    calendar.add_argument(
        "--days-ahead",
        type=int,
        default=90,
        help="record: the summary counts the events of this many days ahead (90)",
    )
    calendar.add_argument(
        "--replay",
        metavar="FILE",
        help="serve: answer from this recording instead of a stand-in: a cassette (from "
        "`calendar record`) or a run's raw pages (from `runs capture`)",
    )


def dispatch(args: argparse.Namespace, serve_standin: Callable[[argparse.Namespace], int]) -> int:
    if args.action == "check":
        return check(args)
    if args.action == "record":
        return record(args)
    if getattr(args, "replay", None):
        return serve_replay(args)
    return serve_standin(args)


def calendar_settings(base_url: str | None) -> CalendarSettings:
    """The producer's calendar settings from the environment, ``--base-url`` winning."""
    try:
        settings = CalendarSettings.from_env(os.environ)
    except SettingsError as error:
        raise UsageError(str(error)) from None
    if base_url:
        settings = dataclasses.replace(settings, base_url=base_url.rstrip("/"))
    return settings


def check(args: argparse.Namespace) -> int:
    from villages_sync_ops.calendar_api.contract import judge, render
    from villages_sync_ops.calendar_api.first_contact import observe

    settings = calendar_settings(args.base_url)
    max_ratio = ProducerSettings.__dataclass_fields__["max_reject_ratio"].default
    env_ratio = os.environ.get("MAX_REJECT_RATIO")
    if env_ratio:
        try:
            max_ratio = float(env_ratio)
        except ValueError:
            raise UsageError(f"MAX_REJECT_RATIO={env_ratio!r} is not a ratio 0-1") from None
    observation = asyncio.run(observe(settings, max_reject_ratio=float(max_ratio)))
    judgement = judge(observation)
    if args.json:
        print(json.dumps(judgement.as_json(), indent=2, ensure_ascii=False))
    else:
        print(render(judgement))
    return EXIT_OK if judgement.holds else EXIT_FAILED


def record(args: argparse.Namespace) -> int:
    from villages_sync.calendar_api.transport import CalendarError

    from villages_sync_ops.calendar_api.cassettes import record_scrape

    if not args.out:
        raise UsageError("record needs --out FILE (and --base-url URL, or the real site)")
    if not 0 <= args.days_ahead <= 366:
        raise UsageError(f"--days-ahead {args.days_ahead} is not 0-366")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: no directory {out.parent}")
    settings = calendar_settings(args.base_url)
    try:
        result = record_scrape(settings, out)
    except CalendarError as error:
        if not out.exists():  # VCR.py writes nothing when nothing answered
            raise CommandError(f"nothing answered, no cassette written: {error}") from None
        print(f"recorded a failed scrape to {out}: {error}")
        return EXIT_FAILED
    in_window = _in_window(result.events, args.days_ahead)
    print(
        f"recorded {result.request_count} requests ({result.page_count} pages, "
        f"{result.retry_count} retries) to {out}: {len(result.events)} events, "
        f"{in_window} in the next {args.days_ahead} days"
        + (f"; drift: {result.drift_reason}" if result.drift else "")
    )
    return EXIT_OK


def _in_window(events: list[dict], days_ahead: int) -> int:
    from datetime import UTC, datetime

    from villages_sync.normalise import normalise_events, window_for
    from villages_sync.settings import DEFAULT_TIMEZONE

    tz = ZoneInfo(DEFAULT_TIMEZONE)
    window = window_for(datetime.now(UTC), tz, days_ahead)
    return len(normalise_events(events, tz=tz, window=window, last_updated=0).items)


def serve_replay(args: argparse.Namespace) -> int:
    from villages_sync_ops.calendar_api.cassettes import CassetteError
    from villages_sync_ops.calendar_api.recordings import load_recording
    from villages_sync_ops.standin.replay import serve_replay as serve

    path = Path(args.replay)
    try:
        interactions = load_recording(path)
    except CassetteError as error:
        raise UsageError(str(error)) from None
    try:
        serve(path, interactions, port=args.port)
    except OSError as error:
        raise CommandError(
            f"cannot listen on 127.0.0.1:{args.port} ({error.strerror or error}); "
            "choose another port with --port"
        ) from None
    return EXIT_OK
