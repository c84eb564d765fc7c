"""The skill fails closed (issue 24): which request envelopes it refuses, as a table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from villages_sync.skill.settings import SettingsError, SkillSettings, request_refusal
from villages_sync_ops.skill.envelopes import LOCAL_SKILL_ID, launch_request

OURS = "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-123456789abc"
OTHER = "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"
NOW = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)


def _with(envelope: dict, *path: str, value: object) -> dict:
    node = envelope
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return envelope


@pytest.mark.parametrize(
    ("configured", "envelope", "refusal"),
    [
        (OURS, launch_request(now=NOW, skill_id=OURS), None),
        (OURS, launch_request(now=NOW, skill_id=OTHER), "for another skill"),
        (None, launch_request(now=NOW, skill_id=OURS), "no skill id is configured"),
        (None, launch_request(now=NOW), "no skill id is configured"),
        (
            OURS,
            _with(launch_request(now=NOW, skill_id=OURS), "context", value=None),
            "names no skill",
        ),
        (  # the session says another skill, the context ours: both must be ours
            OURS,
            _with(
                launch_request(now=NOW, skill_id=OURS),
                "session",
                "application",
                value={"applicationId": OTHER},
            ),
            "for another skill",
        ),
        (  # no session (an AudioPlayer-style request): the context alone decides
            OURS,
            _with(launch_request(now=NOW, skill_id=OURS), "session", value=None),
            None,
        ),
        (OURS, {"request": {"type": "LaunchRequest"}}, "names no skill"),
        (LOCAL_SKILL_ID, launch_request(now=NOW), None),
    ],
)
def test_request_refusal(configured, envelope, refusal):
    found = request_refusal(configured, envelope)

    if refusal is None:
        assert found is None
    else:
        assert found is not None and refusal in found


def test_request_refusal_shows_no_more_than_a_bounded_part_of_a_forged_id():
    forged = "amzn1.ask.skill." + "f" * 20_000

    found = request_refusal(OURS, launch_request(now=NOW, skill_id=forged))

    assert found is not None and len(found) < 200


@pytest.mark.parametrize(
    "raw",
    ["my-skill", "amzn1.ask.skill.", "amzn1.ask.skill.----", "amzn1.ask.skill.123", OURS.upper()],
)
def test_skill_id_setting_must_be_a_skill_uuid(raw):
    with pytest.raises(SettingsError, match="SKILL_ID"):
        SkillSettings.from_env({"TABLE_NAME": "t", "SKILL_ID": raw})


def test_skill_id_setting_unset_or_empty_is_none():
    assert SkillSettings.from_env({"TABLE_NAME": "t"}).skill_id is None
    assert SkillSettings.from_env({"TABLE_NAME": "t", "SKILL_ID": ""}).skill_id is None
    assert SkillSettings.from_env({"TABLE_NAME": "t", "SKILL_ID": OURS}).skill_id == OURS
