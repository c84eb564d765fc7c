"""The consumer handlers import only what they use: no HTTP client, no HTML parser."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
        "from villages_sync.skill.envelopes import launch_request\n"
        "from villages_sync.skill.settings import SkillSettings\n"
        "handler = h.skill_handler(SkillSettings(table_name='t'))\n"
        "out = handler(launch_request(now=datetime.now(UTC)), None)\n"
        "assert 'Welcome' in json.dumps(out), out\n"
        "print(' '.join(sorted(sys.modules)))"
    )

    loaded = _loaded_modules(code)

    assert "ask_sdk_core" in loaded
    assert [m for m in loaded if m.split(".")[0] in ("requests", "charset_normalizer")] == []


def _loaded_modules(code: str) -> list[str]:
    """What a fresh interpreter running ``code`` prints: the names of the loaded modules."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
