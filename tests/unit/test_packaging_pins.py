"""The layer's pins (shared/requirements.txt) and the project's (constraints.txt) agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_layer_requirements_every_pin_matches_constraints():
    # Given both pin files
    layer, project = _pins(ROOT / "shared/requirements.txt"), _pins(ROOT / "constraints.txt")

    # Then every layer dependency is pinned, to the version the tests ran with
    assert layer, "shared/requirements.txt pins nothing"
    mismatched = {
        name: (v, project.get(name)) for name, v in layer.items() if project.get(name) != v
    }
    assert mismatched == {}


def test_skill_requirements_every_pin_matches_constraints_and_skips_the_layer():
    # Given the skill function's own pins, the layer's and the project's
    skill = _pins(ROOT / "skill/requirements.txt")
    layer, project = _pins(ROOT / "shared/requirements.txt"), _pins(ROOT / "constraints.txt")

    # Then each is pinned to the tested version, the SDK is there, and nothing is shipped twice
    assert "ask-sdk-core" in skill
    assert {n: (v, project.get(n)) for n, v in skill.items() if project.get(n) != v} == {}
    assert set(skill) & set(layer) == set()


def test_layer_requirements_leave_the_ask_sdk_to_the_skill_function():
    # The other three functions load the layer: the ASK SDK would only lengthen their cold start.
    layer = _pins(ROOT / "shared/requirements.txt")

    assert not [name for name in layer if name.startswith("ask-sdk")]


HASHED_FILES = (
    "requirements-dev.lock",
    "shared/requirements.txt",
    "skill/requirements.txt",
    "tools/checkov-requirements.txt",
)


def _hashed_pins(path: Path) -> dict[str, list[str]]:
    """Each pin of a requirements file and the sha256 hashes written under it."""
    pins: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#\\]+)", line.strip())
        if match:
            current = re.sub(r"[-_.]+", "-", match[1]).lower()
            pins[current] = []
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})\b", line)
        if hashes:
            assert current is not None, f"{path.name}: a hash before any pin"
            pins[current] += hashes
    return pins


def test_every_requirements_file_is_hash_pinned():
    # Given the files pip installs from (the dev lock, the functions', the scanner's)
    for name in HASHED_FILES:
        pins = _hashed_pins(ROOT / name)

        # Then each pins something, and every pin carries a sha256 (pip then checks them all)
        assert pins, f"{name} pins nothing"
        assert [pin for pin, hashes in pins.items() if not hashes] == [], name


def test_dev_lock_is_constraints_with_hashes():
    # Given the human-edited pins and the lock make install uses
    lock, project = _pins(ROOT / "requirements-dev.lock"), _pins(ROOT / "constraints.txt")

    # Then they hold the same packages at the same versions (regenerate the lock after a change:
    # python tools/lock_requirements.py), the build tools of the editable install included
    assert lock == project
    assert {"pip", "setuptools"} <= set(lock)


def _matches(rule: dict, package: str, file_name: str) -> bool:
    """Whether a Renovate packageRule's name and file matchers (the ones used here) apply."""
    names = [re.sub(r"[-_.]+", "-", n).lower() for n in rule.get("matchPackageNames", [])]
    if "matchPackageNames" in rule and package not in names:
        return False
    return "matchFileNames" not in rule or file_name in rule["matchFileNames"]


def test_renovate_runtime_updates_wait_and_are_never_automerged():
    # Given Renovate's rules, and every package the Lambda functions ship, in each file
    # that pins it
    rules = json.loads((ROOT / "renovate.json").read_text())["packageRules"]
    shipped = {**_pins(ROOT / "shared/requirements.txt"), **_pins(ROOT / "skill/requirements.txt")}
    places = ["shared/requirements.txt", "skill/requirements.txt", "constraints.txt"]
    places.append("requirements-dev.lock")

    for package in shipped:
        for file_name in places:
            # When the rules that match it are applied in order (later ones win)
            settings: dict = {}
            for rule in rules:
                if _matches(rule, package, file_name):
                    settings.update(rule)

            # Then it waits at least 3 days after a release, and a person merges it
            assert settings.get("automerge") is False, (package, file_name)
            days = int(settings.get("minimumReleaseAge", "0 days").split()[0])
            assert days >= 3, (package, file_name)
