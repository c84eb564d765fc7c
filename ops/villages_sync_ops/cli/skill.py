"""``villages-sync skill``: ask the skill's backend a question, locally, as Alexa would.

``ask`` builds a real IntentRequest envelope (entity resolution as Alexa does it from the
interaction model), ``request`` replays a recorded envelope; both run SkillFunction's handler
through the local Lambda runtime against the target's events table and print what Alexa would
say and show. ``venues`` lists the venues in the table that the model does not know yet.
Registered from ``cli.main`` with one call: ``register(subparsers, add_target_options)``.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync.skill.catalog import venue_hosting
from villages_sync.skill.reader import read_days

from villages_sync_ops.cli.errors import CommandError, UsageError
from villages_sync_ops.cli.output import print_json
from villages_sync_ops.cli.summaries import EXIT_FAILED, EXIT_OK
from villages_sync_ops.cli.target_access import guarded, open_target
from villages_sync_ops.local import emulator as shared_emulator
from villages_sync_ops.local.lambda_runtime import Invocation, invoke
from villages_sync_ops.local.template import (
    TemplateResolver,
    default_template_path,
    load_template,
    read_functions,
)
from villages_sync_ops.skill import certification
from villages_sync_ops.skill.envelopes import (
    LOCAL_SKILL_ID,
    LOCAL_USER_ID,
    amazon_date,
    connections_response,
    intent_request,
    said_intent,
    spoken_request,
    whats_on_request,
)
from villages_sync_ops.standin.alexa import RunningAlexa, StandInAlexa

SKILL_FUNCTION = "SkillFunction"
LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)
DEFAULT_DAYS = 90  # the template's DaysAhead default: the window a sync keeps
MODELS = "interactionModels/custom"  # the package's interaction models, one per locale

SESSION_FILE = "skill-session.json"  # the last answer's session, for a follow-up phrase
ALEXA_FILE = "alexa-stand-in.json"  # what the stand-in Alexa holds between commands

EPILOG = """\
examples:
  villages-sync skill ask --date tomorrow --venue brownwood --part-of-day evening
  villages-sync skill ask "remind me about the second one"   # after a question, as a follow-up
  villages-sync skill ask --date "this weekend" --category concerts --pages 2
  villages-sync skill ask --date 2026-W49-WE --now 2026-12-01T18:30
  villages-sync skill request recorded-request.json
  villages-sync skill venues --check
  villages-sync skill check                 # the package alone (make test runs this)
  villages-sync skill check --env local     # and the venue catalogue against that table
"""


def register(sub: Any, add_target_options: Callable[..., None]) -> argparse.ArgumentParser:
    """Add ``skill`` and its actions to the ``villages-sync`` subparsers."""
    skill = sub.add_parser(
        "skill",
        help="ask the voice skill's backend a question, as Alexa would",
        description="Ask the voice skill's backend a question, locally, as Alexa would: the "
        "SkillFunction handler runs in the local Lambda runtime against the target's table.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = skill.add_subparsers(dest="skill_action", required=True, metavar="ACTION")

    ask = actions.add_parser(
        "ask",
        help="one WhatsOnIntent request, built from these words, or a follow-up phrase",
        description="A question (WhatsOnIntent, from the options), or a follow-up phrase to "
        "the last answer ('remind me about the second one', 'tell me about the first one', "
        "'yes', 'more'), in the same session. The Alexa side (the Reminders API, the "
        "permission asked) is a local stand-in; `villages-sync reminders` lists what it holds.",
    )
    add_target_options(ask)
    ask.add_argument("words", nargs="?", help="a follow-up phrase to the last answer")
    ask.add_argument(
        "--refuse", action="store_true", help="refuse the reminders permission when asked"
    )
    ask.add_argument(
        "--date",
        help="today, tomorrow, a weekday, this/next week, this/next weekend, this/next month, "
        "or an AMAZON.DATE value (2026-12-05, 2026-W49, 2026-W49-WE, 2026-12); default: none "
        "(today)",
    )
    ask.add_argument("--venue", help='as said: "spanish springs", "brownwood", ...')
    ask.add_argument("--category", help='as said: "concerts", "sports", "entertainment", ...')
    ask.add_argument("--part-of-day", help="morning, afternoon, evening, tonight or now")
    ask.add_argument(
        "--now", help="ask as of this local time (YYYY-MM-DDTHH:MM); default: the clock"
    )
    ask.add_argument(
        "--pages", type=int, default=1, help='then say "more" until N pages were read (1)'
    )
    ask.add_argument("--json", action="store_true", help="print the response envelopes")
    ask.set_defaults(handler=ask_command)

    replay = actions.add_parser("request", help="run a recorded request envelope (JSON file)")
    add_target_options(replay)
    replay.add_argument("file", type=Path, help="the envelope, as Alexa sent it; - for stdin")
    replay.add_argument("--json", action="store_true", help="print the response envelope")
    replay.set_defaults(handler=request_command)

    venues = actions.add_parser(
        "venues",
        help="venues in the table that the interaction model does not know",
        description="Reads every day of the window through the date index (Queries, never "
        "a Scan) and lists the venues no VENUE value of the model matches: add them to "
        "villages_sync/skill/catalog.py, run tools/interaction_model.py, then ask deploy.",
    )
    add_target_options(venues)
    venues.add_argument("--days", type=int, default=DEFAULT_DAYS, help="days after today (90)")
    venues.add_argument("--check", action="store_true", help="exit 1 when any is missing")
    venues.add_argument("--json", action="store_true", help="print as JSON")
    venues.set_defaults(handler=venues_command)

    check = actions.add_parser(
        "check",
        help="certification pre-flight of skill-package/ (and the catalogue against a table)",
        description="Checks skill-package/ as certification and the model build would: the "
        "invocation name, example phrases against the samples, slot types, samples in two "
        "intents, the icons, and that every reply keeping the session open asks or instructs. "
        "Given a target (--env, --endpoint-url, --stack), also checks that the venue catalogue "
        "knows every venue in its events table. Exit 1 naming each problem, 0 when clean.",
    )
    add_target_options(check)
    check.set_defaults(env=None)  # no target given: the package alone, no table read
    check.add_argument(
        "--package", type=Path, help="the skill package directory (default: skill-package/)"
    )
    check.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help="days of the table to read (90)"
    )
    check.set_defaults(handler=check_command)
    return skill


# ------------------------------------------------------------------------------- commands


def ask_command(args: argparse.Namespace) -> int:
    now = _asked_at(args.now)
    state_dir = shared_emulator.default_state_dir()
    with _stand_in_alexa(state_dir) as alexa:
        return _ask(args, now, alexa, state_dir)


@contextlib.contextmanager
def _stand_in_alexa(state_dir: Path) -> Iterator[StandInAlexa]:
    """The stand-in Alexa for one command, holding what earlier commands set."""
    with RunningAlexa(skill_id=LOCAL_SKILL_ID) as alexa:
        alexa.load(state_dir / ALEXA_FILE)
        try:
            yield alexa
        finally:
            alexa.save(state_dir / ALEXA_FILE)


def _ask(args: argparse.Namespace, now: datetime, alexa: StandInAlexa, state_dir: Path) -> int:
    session_file = state_dir / SESSION_FILE
    system = {
        "api_endpoint": alexa.base_url,
        "api_access_token": alexa.api_token(LOCAL_USER_ID),
        "user_id": LOCAL_USER_ID,
        "reminders_granted": alexa.granted(LOCAL_USER_ID),
    }
    if args.words:
        said = said_intent(args.words)
        if said is None:
            raise UsageError(
                f"{args.words!r} is not a follow-up phrase this command knows: 'remind me "
                "about the second one', 'tell me about the first one', 'yes', 'more'..."
            )
        intent, spoken = said
        attributes = _saved_session(session_file)
        event = spoken_request(intent, now=now, spoken=spoken, attributes=attributes, alexa=system)
    else:
        event = whats_on_request(
            now=now,
            date_value=amazon_date(args.date, today=now.date()) if args.date else None,
            venue=args.venue,
            category=args.category,
            part_of_day=args.part_of_day,
            alexa=system,
        )
    runner = SkillRunner.for_args(args)
    responses = [runner.run(event)]
    asked = _permission_asked(responses[-1])
    if asked is not None:  # Alexa asks the resident to allow reminders; they answer
        answer = "DENIED" if args.refuse else "ACCEPTED"
        if answer == "ACCEPTED":
            alexa.grant(LOCAL_USER_ID)
        reply = connections_response(
            now=now,
            token=asked,
            status=answer,
            attributes=responses[-1].get("sessionAttributes"),
            alexa={**system, "api_access_token": alexa.api_token(LOCAL_USER_ID)},
        )
        responses.append(runner.run(reply))
    while len(responses) < args.pages and _pending(responses[-1]):
        follow_up = intent_request(
            "AMAZON.NextIntent",
            now=now,
            attributes=responses[-1]["sessionAttributes"],
            new=False,
        )
        responses.append(runner.run(follow_up))
    session_file.parent.mkdir(parents=True, exist_ok=True)
    session_file.write_text(json.dumps(responses[-1].get("sessionAttributes") or {}), "utf-8")
    if args.json:
        print_json(responses)
    else:
        words = repr(args.words) if args.words else _question_words(args, event)
        print(f"You asked: {words}  ({runner.description})\n")
        for response in responses:
            if _permission_asked(response) is not None:
                said = "no" if args.refuse else "yes"
                print(f"Alexa: (asks you to allow Villages Events to set reminders) You: {said}\n")
                continue
            print_response(response)
    return EXIT_OK


def _permission_asked(envelope: dict[str, Any]) -> str | None:
    """The token of a Connections.SendRequest AskFor in the response, if any."""
    for directive in envelope.get("response", {}).get("directives") or []:
        if directive.get("type") == "Connections.SendRequest" and directive.get("name") == "AskFor":
            return str(directive.get("token", ""))
    return None


def _saved_session(path: Path) -> dict[str, Any]:
    try:
        saved = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        saved = None
    if not isinstance(saved, dict) or not saved:
        raise UsageError(
            "ask a question first (villages-sync skill ask --date ...), then follow up"
        )
    return saved


def request_command(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text("utf-8")
        event = json.loads(text)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read a request envelope from {args.file}: {error}") from None
    if not isinstance(event, dict) or "request" not in event:
        raise CommandError(f"{args.file} is not an Alexa request envelope (no 'request')")
    # A recorded envelope is answered as the skill it was sent to (the operator's own replay).
    application = event.get("context", {}).get("System", {}).get("application", {})
    recorded_id = application.get("applicationId") if isinstance(application, dict) else None
    runner = SkillRunner.for_args(
        args, skill_id=recorded_id if isinstance(recorded_id, str) else None
    )
    response = runner.run(event)
    if args.json:
        print_json(response)
    else:
        print_response(response)
    return EXIT_OK


def venues_command(args: argparse.Namespace) -> int:
    target = open_target(args, create=False)
    days, counts = _venue_counts(target, args.days)
    unknown = {
        location: count
        for location, count in sorted(counts.items())
        if location and venue_hosting(location) is None
    }
    if args.json:
        print_json({"days": days, "venues": len(counts), "not_in_model": unknown})
    else:
        print(f"{len(counts)} venues in {days} days of {target.description}")
        if not unknown:
            print("every one is in the interaction model")
        else:
            print(f"{len(unknown)} not in the interaction model (events):")
            for location, count in unknown.items():
                print(f"  {location}  ({count})")
            print(
                "\nAdd them to shared/villages_sync/skill/catalog.py with their spoken "
                "synonyms,\nrun `python tools/interaction_model.py`, then `ask deploy`."
            )
    return EXIT_FAILED if args.check and unknown else EXIT_OK


def check_command(args: argparse.Namespace) -> int:
    package = args.package or default_template_path().parent / "skill-package"
    if not (package / "skill.json").is_file():
        raise UsageError(f"{package} is not a skill package (no skill.json)")
    problems = _package_problems(package)
    problems += certification.prompt_problems(certification.conversation_prompts())
    checked = f"{package}"
    if any((args.env, args.endpoint_url, args.dynamodb_endpoint_url, args.stack)):
        args.env = args.env or "local"
        target = open_target(args, create=False)
        days, counts = _venue_counts(target, args.days)
        problems += certification.catalogue_problems(counts, venue_hosting)
        checked += f" and {len(counts)} venues in {days} days of {target.description}"
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} problem(s) in {checked}")
        return EXIT_FAILED
    print(f"skill check: no problems in {checked}")
    return EXIT_OK


def _package_problems(package: Path) -> list[certification.Problem]:
    problems: list[certification.Problem] = []
    documents: dict[str, Any] = {}
    paths = [package / "skill.json", *sorted((package / MODELS).glob("*.json"))]
    for path in paths:
        try:
            documents[str(path)] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            problems.append(certification.Problem("package", f"cannot read {path}: {error}"))
    manifest = documents.pop(str(package / "skill.json"), {})
    models = {Path(path).stem: model for path, model in documents.items()}

    def icon_bytes(uri: str) -> bytes | None:
        path = (package / uri.removeprefix("file://")).resolve()
        if not path.is_relative_to(package.resolve()) or not path.is_file():
            return None
        with path.open("rb") as image:
            return image.read(certification.ICON_BYTES_NEEDED)

    return problems + certification.package_problems(manifest, models, icon_bytes)


def _venue_counts(target: Any, days_ahead: int) -> tuple[int, Counter[str]]:
    """The venues of the window's events (through the date index: Queries, never a Scan)."""
    today = datetime.now(LOCAL_TZ).date()
    days = [today + timedelta(days=n) for n in range(max(0, days_ahead) + 1)]
    items = guarded(lambda: read_days(target.events, days))
    counts = Counter(
        str(item.get("location", "")).strip()
        for item in {str(item["event_id"]): item for item in items}.values()
    )
    return len(days), counts


# ----------------------------------------------------------------------------- the runner


class SkillRunner:
    """SkillFunction's handler, run by the local Lambda runtime against one events table."""

    def __init__(self, env: dict[str, str], description: str, log: TextIO | None = None) -> None:
        self.spec = read_functions(TemplateResolver(load_template()))[SKILL_FUNCTION]
        self.env = {**self.spec.environment, **env}
        self.description = description
        self.log = log  # the handler's JSON logs; None: the state directory's functions.log

    @classmethod
    def for_args(cls, args: argparse.Namespace, *, skill_id: str | None = None) -> SkillRunner:
        # Read-only, like `status`: no emulator started, no table created; a misspelt --env
        # is a one-line error rather than "no events" from a table made for the question.
        target = open_target(args, create=False)
        # A local run names the skill its envelopes are for, as a deployment names the real
        # one: the handler refuses every request when no skill id is configured.
        env = {
            "TABLE_NAME": target.events_table,
            "SKILL_ID": skill_id or LOCAL_SKILL_ID,
            "REMINDERS_TABLE_NAME": target.tables.get("RemindersTable", ""),
        }
        endpoint = target.clients.dynamodb.meta.endpoint_url
        if not args.stack:  # the emulator or --endpoint-url: the function must use it too
            env["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        return cls(env, target.description)

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        with _function_log(self.log) as log, contextlib.redirect_stdout(log):
            invocation: Invocation = invoke(
                self.spec.handler_path,
                event,
                env=self.env,
                function_name=self.spec.function_name,
                timeout_seconds=self.spec.timeout_seconds,
                memory_mb=self.spec.memory_mb,
            )
        if not invocation.succeeded:
            raise CommandError(f"the skill function failed: {invocation.error_text}")
        return invocation.payload


# ------------------------------------------------------------------------------- printing


def plain_speech(ssml: str) -> str:
    """The words of an SSML document, as a listener hears them."""
    return html.unescape(re.sub(r"<[^>]+>", "", ssml)).strip()


def print_response(envelope: dict[str, Any], stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    response = envelope.get("response", {})
    speech = response.get("outputSpeech") or {}
    said = plain_speech(speech.get("ssml", "")) if "ssml" in speech else speech.get("text", "")
    print(f"Alexa: {said or '(nothing)'}", file=out)
    card = response.get("card")
    if card:
        print(f"\nCard: {card.get('title', '')}", file=out)
        for line in str(card.get("content", "")).splitlines():
            print(f"  {line}", file=out)
    ends = response.get("shouldEndSession")
    print(f"\n({'session ends' if ends in (True, None) else 'listening'})\n", file=out)


def _pending(envelope: dict[str, Any]) -> bool:
    return bool(envelope.get("sessionAttributes", {}).get("pending"))


def _question_words(args: argparse.Namespace, event: dict[str, Any]) -> str:
    slots = event["request"]["intent"]["slots"]
    said = [f"{name}={slots[name].get('value')!r}" for name in slots if slots[name].get("value")]
    return "what's on" + (f" ({', '.join(said)})" if said else "")


# ------------------------------------------------------------------------------- helpers


def _asked_at(text: str | None) -> datetime:
    if not text:
        return datetime.now(LOCAL_TZ)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now {text!r} is not YYYY-MM-DDTHH:MM") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


@contextlib.contextmanager
def _function_log(given: TextIO | None) -> Iterator[TextIO]:
    """The handler's own JSON logs go where `sync` puts the functions' logs, not on stdout."""
    if given is not None:
        yield given
        return
    log_dir = shared_emulator.default_state_dir() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "functions.log").open("a", encoding="utf-8") as log:
        yield log


def first_page(deployment: Any, *, date_words: str, log: TextIO | None = None) -> str:
    """One question to the skill against a local deployment (for `demo`): what Alexa says."""
    asked = datetime.now(LOCAL_TZ)
    runner = SkillRunner(
        {
            "TABLE_NAME": deployment.resources.tables["EventsTable"],
            "AWS_ENDPOINT_URL": deployment.endpoint_url,
            "AWS_ENDPOINT_URL_DYNAMODB": deployment.dynamodb_url,  # DynamoDB Local, if used
            "SKILL_ID": LOCAL_SKILL_ID,
        },
        deployment.endpoint_url,
        log,
    )
    event = whats_on_request(now=asked, date_value=amazon_date(date_words, today=asked.date()))
    speech = runner.run(event)["response"]["outputSpeech"]["ssml"]
    return plain_speech(speech)


# ------------------------------------------------------------------------------- reminders


def register_reminders(sub: Any) -> argparse.ArgumentParser:
    """``villages-sync reminders``: what the local stand-in Alexa holds."""
    reminders = sub.add_parser(
        "reminders",
        help="the reminders the local stand-in Alexa holds (set with `skill ask`)",
        description="Lists the reminders that `villages-sync skill ask` set through the local "
        "stand-in for Alexa's Reminders API: when each rings, what it says, how often it "
        "was updated (a moved or cancelled event updates it).",
    )
    reminders.add_argument("--json", action="store_true", help="print as JSON")
    reminders.set_defaults(handler=reminders_command)
    return reminders


def reminders_command(args: argparse.Namespace) -> int:
    alexa = StandInAlexa(skill_id=LOCAL_SKILL_ID)
    alexa.load(shared_emulator.default_state_dir() / ALEXA_FILE)
    held = sorted(alexa.reminders(), key=lambda r: r.scheduled_time)
    if args.json:
        print_json([{**r.as_api(), "userId": r.user_id} for r in held])
        return EXIT_OK
    if not held:
        print('no reminders (set one: villages-sync skill ask "remind me about the first one")')
        return EXIT_OK
    print(f"{len(held)} reminder(s) held by the stand-in Alexa:")
    for reminder in held:
        updated = f", updated {reminder.version - 1}x" if reminder.version > 1 else ""
        print(f"  {reminder.scheduled_time}  {reminder.text}{updated}")
    return EXIT_OK
