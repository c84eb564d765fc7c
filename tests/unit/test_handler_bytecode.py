"""Each function's package ships its handler modules' bytecode (issue 21: /var/task is
read-only, so a handler without it is compiled from source at every cold start), built by the
same Makefile target `sam build` and `make package` call, as unchecked-hash .pyc files that a
zip's timestamps cannot invalidate."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
PYC_TAG = sys.implementation.cache_tag  # cpython-311 here; cpython-312 for Lambda's build

CONSUMER_HANDLERS = ["upsert_handler", "sweep_handler", "reminders_handler", "changes_handler"]
FUNCTIONS = [
    ("producers", "build-ProducerFunction", ["scrape_handler"]),
    ("consumers", "build-ConsumerFunction", CONSUMER_HANDLERS),
    ("consumers", "build-SweepFunction", CONSUMER_HANDLERS),
    ("consumers", "build-RemindersFunction", CONSUMER_HANDLERS),
    ("consumers", "build-ChangesFunction", CONSUMER_HANDLERS),
    ("skill", "build-SkillFunction", ["skill_handler"]),
]


def _build(directory: str, target: str, out: Path, python: str) -> subprocess.CompletedProcess:
    # PIP=true: the skill's ASK SDK wheels are not what this test is about (no download)
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT / directory),
            target,
            f"ARTIFACTS_DIR={out}",
            f"LAMBDA_PYTHON={THIS_PYTHON}",
            f"LAMBDA_PYTHON_BIN={python}",
            "PIP=true",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.mark.parametrize(("directory", "target", "handlers"), FUNCTIONS)
def test_function_build_ships_each_handlers_unchecked_hash_bytecode(
    directory, target, handlers, tmp_path
):
    # Given the function's Makefile and a Python of the version the build targets
    # When its build target runs
    _build(directory, target, tmp_path, sys.executable)

    # Then each handler module has bytecode beside it, hash-based and never checked, of its
    # source as shipped
    for handler in handlers:
        source = (tmp_path / f"{handler}.py").read_bytes()
        pyc = (tmp_path / "__pycache__" / f"{handler}.{PYC_TAG}.pyc").read_bytes()
        assert pyc[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, check_source off
        assert pyc[8:16] == importlib.util.source_hash(source)


@pytest.mark.parametrize(("directory", "target", "handlers"), FUNCTIONS[:2])
def test_function_build_without_the_lambda_python_ships_source_only(
    directory, target, handlers, tmp_path
):
    # Given no Python of the targeted version on the build machine
    # When the build target runs
    done = _build(directory, target, tmp_path, "")

    # Then the handlers ship as source, and the build says why
    shipped = sorted(p.name for p in tmp_path.glob("*_handler.py"))
    assert shipped == sorted(f"{h}.py" for h in handlers)
    assert not (tmp_path / "__pycache__").exists()
    assert "ships without bytecode" in done.stderr
