"""The skill knows how far ahead the sync keeps events: DAYS_AHEAD flows from template.yaml's
DaysAhead parameter into SkillFunction's settings, exactly as it does into the producer's."""

from __future__ import annotations

import pytest
from villages_sync.settings import ProducerSettings
from villages_sync.skill.settings import SettingsError, SkillSettings
from villages_sync_ops.local.template import TemplateResolver, read_functions


@pytest.mark.parametrize("days_ahead", [None, 30])
def test_template_skill_days_ahead_is_the_producers(template, days_ahead):
    # Given the template, with the DaysAhead default or an override
    parameters = {"DaysAhead": str(days_ahead)} if days_ahead is not None else {}
    functions = read_functions(TemplateResolver(template, parameters=parameters))

    # When the skill and the producer parse their environments
    skill = SkillSettings.from_env(functions["SkillFunction"].environment)
    producer = ProducerSettings.from_env(functions["ProducerFunction"].environment)

    # Then the skill knows the producer's window
    assert skill.days_ahead == producer.days_ahead == (days_ahead or 90)


def test_skill_settings_days_ahead_error_names_the_variable():
    with pytest.raises(SettingsError, match="DAYS_AHEAD"):
        SkillSettings.from_env({"TABLE_NAME": "t", "DAYS_AHEAD": "-3"})
