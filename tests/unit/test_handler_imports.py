"""Handlers import only what they use: the consumers no HTTP client and no HTML parser; no
handler anything of the command line's (rich, argcomplete: cold start, and not in the layer);
no handler the X-Ray SDK, Powertools' Tracer or batch utilities, pydantic or jmespath (issue 21:
each was a measurable part of a cold start, benchmarks/cold_start.py)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRAPER_ONLY = ("aiohttp", "bs4")


@pytest.mark.parametrize(
    "module", ["consumers.upsert_handler", "consumers.sweep_handler", "skill.skill_handler"]
)
def test_consumer_handler_import_loads_no_scraper_dependencies(module):
    # Given a fresh interpreter (nothing imported yet)
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"

    # When it imports the handler module
    loaded = _loaded_modules(code)

    # Then neither aiohttp nor BeautifulSoup (nor their submodules) was loaded
    assert [m for m in loaded if m.split(".")[0] in SCRAPER_ONLY] == []


CLI_ONLY = ("rich", "argcomplete", "villages_sync_ops")
HANDLERS = [
    "producers.scrape_handler",
    "consumers.upsert_handler",
    "consumers.sweep_handler",
    "consumers.reminders_handler",
    "consumers.changes_handler",
    "skill.skill_handler",
]


@pytest.mark.parametrize("module", HANDLERS)
def test_handler_import_loads_nothing_of_the_command_line(module):
    # Given a fresh interpreter / When it imports the handler module
    loaded = _loaded_modules(f"import sys, {module}; print(' '.join(sorted(sys.modules)))")

    # Then neither rich nor argcomplete nor the CLI package was loaded
    assert [m for m in loaded if m.startswith(CLI_ONLY)] == []


@pytest.mark.parametrize(
    "module", ["producers.scrape_handler", "consumers.upsert_handler", "consumers.sweep_handler"]
)
def test_pipeline_handler_import_loads_no_skill_sdk(module):
    # The ASK SDK ships with the skill function only: the pipeline's cold starts stay as they were
    loaded = _loaded_modules(f"import sys, {module}; print(' '.join(sorted(sys.modules)))")

    assert [m for m in loaded if m.split(".")[0].startswith("ask_sdk")] == []


def test_skill_handler_answers_without_loading_requests():
    # requests is left out of the skill's package: answering must never import it
    code = (
        "import sys, json\n"
        "from datetime import datetime, UTC\n"
        "import skill.skill_handler as h\n"
        "from villages_sync_ops.skill.envelopes import launch_request\n"
        "from villages_sync.skill.settings import SkillSettings\n"
        "handler = h.skill_handler(SkillSettings(table_name='t'))\n"
        "out = handler(launch_request(now=datetime.now(UTC)), None)\n"
        "assert 'Welcome' in json.dumps(out), out\n"
        "print(' '.join(sorted(sys.modules)))"
    )

    loaded = _loaded_modules(code)

    assert "ask_sdk_core" in loaded
    assert [m for m in loaded if m.split(".")[0] in ("requests", "charset_normalizer")] == []


# What a handler must never load (their floors: boto3 and botocore bring jmespath along, so it
# is counted only beyond what boto3 itself loads).
COLD_START_HEAVY = (
    "aws_xray_sdk",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes",
    "pydantic",
    "jmespath",
)


@pytest.mark.parametrize("module", HANDLERS)
def test_handler_import_loads_no_tracing_sdk_batch_utility_or_pydantic(module):
    # Given a fresh interpreter that has imported boto3 (every handler's floor)
    code = (
        "import sys, boto3\n"
        "floor = set(sys.modules)\n"
        f"import {module}\n"
        "print(' '.join(sorted(set(sys.modules) - floor)))"
    )

    # When it imports the handler module / Then none of the heavy modules was loaded
    loaded = _loaded_modules(code)
    assert module in loaded
    assert [m for m in loaded if m.startswith(COLD_START_HEAVY)] == []


@pytest.mark.parametrize("module", HANDLERS)
def test_handler_creates_no_tracer_when_it_runs_its_module_code(module):
    # Powertools imports its Tracer class (not the SDK) in its package; a handler that built a
    # Tracer() would load aws_xray_sdk: the module-level objects hold no Tracer
    code = (
        "import sys\n"
        f"import {module} as handler\n"
        "from aws_lambda_powertools import Tracer\n"
        "print(' '.join(n for n, v in vars(handler).items() if isinstance(v, Tracer)) or '-')"
    )

    assert _loaded_modules(code) == ["-"]


@pytest.mark.parametrize(
    "module", ["consumers.upsert_handler", "consumers.sweep_handler", "skill.skill_handler"]
)
def test_only_the_producer_loads_asyncio(module):
    # Only the producer scrapes asynchronously; asyncio was ~40 ms of the consumer's and the
    # sweep's cold start when the sweep-request queue's module also held the streaming sender
    loaded = _loaded_modules(f"import sys, {module}; print(' '.join(sorted(sys.modules)))")

    assert "villages_sync.aws.queue" in loaded or module.startswith("skill")
    assert [m for m in loaded if m.split(".")[0] == "asyncio"] == []


@pytest.mark.parametrize("module", ["producers.scrape_handler", "consumers.upsert_handler"])
def test_only_the_sweep_loads_the_sweep_policy(module):
    # villages_sync.settings imports the policy only when SweepSettings.rules asks for it
    loaded = _loaded_modules(f"import sys, {module}; print(' '.join(sorted(sys.modules)))")

    assert "villages_sync.settings" in loaded
    assert "villages_sync.sweep_policy" not in loaded


# What the skill's handler used to load at import and never needs for a screenless answer
# (issue 21: the skill's cold start): every APL model (~80 modules, loaded by the request
# envelope of a device with a screen), the pipeline's settings classes (the skill parses with
# villages_sync.setting_parsers), xml.sax (speech.escape does its three replacements), and the
# table's writes with the run records they use (the skill only reads: aws.event_reads), and
# the reminders' modules (read when a reminder is set or followed: ~6 ms of every cold start).
SKILL_DEFERRED = (
    "ask_sdk_model.interfaces.alexa.presentation.apl",
    "villages_sync.alexa",
    "villages_sync.reminders",
    "villages_sync.skill.reminding",
    "villages_sync.aws.events_table",
    "villages_sync.models",
    "villages_sync.settings",
    "villages_sync.sweep_policy",
    "xml.sax",
)


def test_skill_handler_import_loads_no_apl_models_pipeline_settings_or_xml_sax():
    # Given a fresh interpreter with the skill's floor imported
    code = (
        "import sys, boto3, ask_sdk_core.skill_builder, ask_sdk_model\n"
        "floor = set(sys.modules)\n"
        "import skill.skill_handler\n"
        "print(' '.join(sorted(set(sys.modules) - floor)))"
    )

    # When it imports the skill's handler
    loaded = _loaded_modules(code)

    # Then it loaded the skill's settings and speech, and none of the deferred modules
    assert {"villages_sync.skill.settings", "villages_sync.skill.speech"} <= set(loaded)
    assert "villages_sync.aws.event_reads" in loaded
    assert [m for m in loaded if m.startswith(SKILL_DEFERRED)] == []


@pytest.mark.parametrize("screen", [False, True])
def test_skill_answer_loads_the_apl_models_only_for_a_screen(screen):
    # Given the skill's handler and a question asked on a device with or without a screen
    code = (
        "import sys, json\n"
        "from datetime import datetime, UTC\n"
        "import skill.skill_handler as h\n"
        "from villages_sync_ops.skill.envelopes import launch_request\n"
        "from villages_sync.skill.settings import SkillSettings\n"
        "handler = h.skill_handler(SkillSettings(table_name='t'))\n"
        f"out = handler(launch_request(now=datetime.now(UTC), screen={screen}), None)\n"
        "print(json.dumps(out))\n"
        "print(' '.join(sorted(sys.modules)))"
    )

    # When the handler answers the launch
    answer, loaded = _loaded_modules_after_output(code)

    # Then the welcome was said, and the APL models were loaded only with the screen's envelope
    assert "Welcome" in answer["response"]["outputSpeech"]["ssml"]
    apl = [m for m in loaded if m.startswith("ask_sdk_model.interfaces.alexa.presentation.apl")]
    assert bool(apl) is screen


PACKAGED_SOURCES = (
    "producers",
    "consumers",
    "skill",
    "shared/villages_sync",
    "ops/villages_sync_ops",
    "tools",
)


def test_no_packaged_code_imports_the_x_ray_sdk_or_the_powertools_tracer():
    # Given every Python file of the functions, the layer and the tools
    offenders = []
    for top in PACKAGED_SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                bad = [
                    n
                    for n in names
                    if n.startswith("aws_xray_sdk")
                    or n in ("aws_lambda_powertools.Tracer", "aws_lambda_powertools.tracing")
                ]
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in bad]

    # Then none imports the X-Ray SDK or Powertools' Tracer
    assert offenders == []


@pytest.mark.parametrize("pins", ["shared/requirements.txt", "skill/requirements.txt"])
def test_no_function_requirements_file_ships_the_x_ray_sdk(pins):
    # The layer and the skill's package: aws-xray-sdk (and wrapt, which only it needed) is in
    # neither, nor Powertools' [tracer] extra. constraints.txt, the development set, keeps
    # both: moto's server needs them, and the import tests above are stronger for it (an
    # import of the SDK would succeed there, so only the test stops it)
    text = (ROOT / pins).read_text().lower()
    names = re.findall(r"^([a-z0-9_.\-]+(?:\[[a-z0-9_,\-]+\])?)\s*==", text, re.M)
    assert names, f"{pins} pins nothing"
    assert [n for n in names if re.sub(r"[-_.]+", "-", n).startswith(("aws-xray", "wrapt"))] == []
    assert "[tracer]" not in text


def test_project_dependencies_leave_out_the_powertools_tracer_extra():
    text = (ROOT / "pyproject.toml").read_text()
    assert "aws-lambda-powertools" in text
    assert "[tracer]" not in text and "aws-xray-sdk" not in text


def _loaded_modules_after_output(code: str) -> tuple[dict, list[str]]:
    """``code`` prints a JSON line, then the loaded modules: both, parsed."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    first, _, rest = out.partition("\n")
    return json.loads(first), rest.split()


def _loaded_modules(code: str) -> list[str]:
    """What a fresh interpreter running ``code`` prints: the names of the loaded modules."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
