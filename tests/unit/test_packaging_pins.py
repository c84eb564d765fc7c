"""The layer's pins (shared/requirements.txt) and the project's (constraints.txt) agree."""

from __future__ import annotations

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
