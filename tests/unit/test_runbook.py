"""The runbook (docs/operations.md) agrees with the tool: every `villages-sync` command it
shows parses with the real command line, and every message it quotes is one the code can say.

An operator follows the runbook literally at 2 AM: a command that does not exist, or a message
to look for that the tool never prints, sends them the wrong way.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from villages_sync_ops.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "operations.md"
SOURCES = [
    p
    for folder in ("shared/villages_sync", "ops/villages_sync_ops", "producers", "consumers")
    for p in (ROOT / folder).rglob("*.py")
]
PLACEHOLDERS = {
    "RUN_ID": "20261201T110000.123456Z-ab12cd",
    "PREVIOUS_RUN": "20261130T110000.123456Z-ab12cd",
    "NAME": "villages-sync-prod",
    "FILE.json": "env.json",
}
# What the runbook tells an operator to look for, as the tool prints or logs it.
QUOTED_MESSAGES = [
    "message failed",
    "event rejected",
    "response has no 'events' list",
    """no 'dp_AUTH_TOKEN' or 'Authorization: "Basic ..."' credential in the script""",
    "interrupted: ",
    "abandoned: ",
    "nothing was deleted",
]


def runbook_commands() -> list[str]:
    text = RUNBOOK.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        commands += [line for line in joined.splitlines() if line.startswith("villages-sync ")]
    prose = re.sub(r"```.*?```", "", text, flags=re.S).replace("\n", " ")
    commands += re.findall(r"`(villages-sync [^`]*)`", prose)
    return [" ".join(c.split("#", 1)[0].split()) for c in commands]


def _words(command: str) -> list[str]:
    return [PLACEHOLDERS.get(word, word) for word in shlex.split(command)[1:]]


def test_runbook_shows_commands():
    assert len(runbook_commands()) >= 15


@pytest.mark.parametrize("command", runbook_commands())
def test_runbook_command_parses_with_the_real_command_line(command):
    try:
        build_parser().parse_args(_words(command))
    except SystemExit as stopped:  # argparse's way of refusing
        pytest.fail(f"the runbook's `{command}` does not parse (exit {stopped.code})")


def _plain(text: str) -> str:
    """Quotes, escapes and line breaks aside: how a message reads in prose and in code."""
    return " ".join(text.replace("\\", "").replace('"', "").split())


@pytest.mark.parametrize("message", QUOTED_MESSAGES)
def test_runbook_quoted_message_is_one_the_code_says(message):
    assert _plain(message) in _plain(RUNBOOK.read_text(encoding="utf-8")), (
        "the runbook no longer quotes it: drop it from this list"
    )
    in_code = [p for p in SOURCES if _plain(message) in _plain(p.read_text(encoding="utf-8"))]
    assert in_code, f"no code says {message!r}"


def test_runbook_reads_dead_letters_with_the_tool_not_the_aws_cli():
    text = RUNBOOK.read_text(encoding="utf-8")
    assert "aws sqs receive-message" not in text
    assert "replay-dlq --show" in text


def test_runbook_links_resolve():
    text = RUNBOOK.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)\)", text):
        assert (RUNBOOK.parent / target).exists(), target
    assert "PROTOCOL.md" not in text  # not in the repository: calendar-contract.md is
