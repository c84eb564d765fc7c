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

from villages_sync.cli.errors import CommandError, UsageError
from villages_sync.cli.summaries import EXIT_FAILED, EXIT_OK
from villages_sync.settings import CalendarSettings, ProducerSettings, SettingsError


def add_arguments(calendar: argparse.ArgumentParser, url_type: Callable[[str], str]) -> None:
    """The options of check, record and serve --replay (one block beside `serve`'s own)."""
    calendar.add_argument(
        "--base-url",
        type=url_type,
        help="check/record: the calendar's base URL (default for check: the real site, as the "
        "producer uses it; CALENDAR_BASE_URL is honoured too)",
    )
    calendar.add_argument("--json", action="store_true", help="check: the report as JSON")
    calendar.add_argument("--out", metavar="FILE", help="record: where to write the cassette")
    calendar.add_argument(
        "--days-ahead",
        type=int,
        default=90,
        help="record: the window the scrape is for, kept in the cassette (90)",
    )
    calendar.add_argument(
        "--replay",
        metavar="FILE",
        help="serve: answer from this cassette (from `calendar record`) instead of a stand-in",
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
    from villages_sync.calendar_api.contract import judge, render
    from villages_sync.calendar_api.first_contact import observe

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
    raise CommandError("calendar record is not built yet")


def serve_replay(args: argparse.Namespace) -> int:
    raise CommandError("calendar serve --replay is not built yet")
