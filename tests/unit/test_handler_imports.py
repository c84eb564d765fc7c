"""Handlers import only what they use: the consumers no HTTP client and no HTML parser; no
handler anything of the command line's (rich, argcomplete: cold start, and not in the layer)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRAPER_ONLY = ("aiohttp", "bs4")


@pytest.mark.parametrize("module", ["consumers.upsert_handler", "consumers.sweep_handler"])
def test_consumer_handler_import_loads_no_scraper_dependencies(module):
    # Given a fresh interpreter (nothing imported yet)
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"

    # When it imports the handler module
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()

    # Then neither aiohttp nor BeautifulSoup (nor their submodules) was loaded
    assert [m for m in loaded if m.split(".")[0] in SCRAPER_ONLY] == []


CLI_ONLY = ("rich", "argcomplete", "villages_sync.cli")
HANDLERS = ["producers.scrape_handler", "consumers.upsert_handler", "consumers.sweep_handler"]


@pytest.mark.parametrize("module", HANDLERS)
def test_handler_import_loads_nothing_of_the_command_line(module):
    # Given a fresh interpreter / When it imports the handler module
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()

    # Then neither rich nor argcomplete nor the CLI package was loaded
    assert [m for m in loaded if m.startswith(CLI_ONLY)] == []
