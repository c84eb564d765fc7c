"""SkillFunction in template.yaml: its settings, its least-privilege role, the Alexa permission
that exists only when the skill's id is given (fail closed), and its package build."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.template import as_list
from villages_sync.skill.settings import SettingsError, SkillSettings
from villages_sync_ops.local.template import TemplateResolver, read_functions, read_tables

ROOT = Path(__file__).resolve().parents[2]
SKILL_ID = "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-123456789abc"


@pytest.fixture(scope="module")
def resolver(template: dict[str, Any]) -> TemplateResolver:
    return TemplateResolver(template)


def _role_statements(resolver: TemplateResolver) -> list[dict[str, Any]]:
    role_id = resolver.properties("SkillFunction")["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in resolver.properties(role_id)["Policies"]
        for statement in resolver.resolve(policy["PolicyDocument"]["Statement"])
    ]


def test_template_skill_role_may_only_query_the_two_indexes_and_write_its_reminders(resolver):
    table_arn = resolver.get_att("EventsTable", "Arn")

    statements = _role_statements(resolver)

    on_table = [
        s for s in statements if any(r.startswith(table_arn) for r in as_list(s["Resource"]))
    ]
    assert [as_list(s["Action"]) for s in on_table] == [["dynamodb:Query"]]
    assert sorted(as_list(on_table[0]["Resource"])) == [
        f"{table_arn}/index/date-index",
        f"{table_arn}/index/multi-day-index",
    ]
    reminders_arn = resolver.get_att("RemindersTable", "Arn")
    on_reminders = [s for s in statements if as_list(s["Resource"]) == [reminders_arn]]
    assert [sorted(as_list(s["Action"])) for s in on_reminders] == [
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    ]
    others = [s for s in statements if s not in on_table and s not in on_reminders]
    assert {a for s in others for a in as_list(s["Action"])} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert all(s["Effect"] == "Allow" and "*" not in as_list(s["Resource"]) for s in statements)
    assert "Policies" not in resolver.properties("SkillFunction")


def test_template_skill_reads_the_index_the_table_defines(resolver):
    indexes = {
        i["IndexName"] for i in read_tables(resolver)["EventsTable"].global_secondary_indexes
    }

    assert {"date-index", "multi-day-index"} <= indexes


def test_template_skill_environment_parses_into_its_settings(template):
    # Given the environment without and with a skill id
    without = read_functions(TemplateResolver(template))["SkillFunction"]
    with_id = read_functions(TemplateResolver(template, parameters={"SkillId": SKILL_ID}))

    # When the handler parses it
    settings = SkillSettings.from_env(without.environment)

    # Then it names the events table, New York time and no skill id; or the given one
    assert settings.table_name == read_tables(TemplateResolver(template))["EventsTable"].table_name
    assert settings.timezone.key == "America/New_York"
    assert settings.skill_id is None
    assert SkillSettings.from_env(with_id["SkillFunction"].environment).skill_id == SKILL_ID
    assert without.handler_path == "skill.skill_handler.lambda_handler"
    assert without.timeout_seconds < 8  # Alexa waits 8 seconds for an answer


def test_skill_settings_errors_name_the_variable():
    with pytest.raises(SettingsError, match="TABLE_NAME"):
        SkillSettings.from_env({})
    with pytest.raises(SettingsError, match="SKILL_ID"):
        SkillSettings.from_env({"TABLE_NAME": "t", "SKILL_ID": "my-skill"})
    with pytest.raises(SettingsError, match="TIMEZONE"):
        SkillSettings.from_env({"TABLE_NAME": "t", "TIMEZONE": "Mars/Olympus"})


def test_template_alexa_permission_exists_only_for_the_named_skill(template):
    # Fail closed (issue 24): no SAM AlexaSkill event (without a SkillId it grants every skill);
    # an explicit permission that exists only with the skill's id, and names it.
    function = template["Resources"]["SkillFunction"]["Properties"]
    permission = template["Resources"]["SkillFunctionAlexaSkillPermission"]
    condition = template["Conditions"]["HasSkillId"]

    assert "Events" not in function
    assert permission["Type"] == "AWS::Lambda::Permission"
    assert permission["Condition"] == "HasSkillId"
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": ["SkillFunction", "Arn"]},
        "Principal": "alexa-appkit.amazon.com",
        "EventSourceToken": {"Ref": "SkillId"},
    }
    assert TemplateResolver(template).resolve(condition) is False
    assert TemplateResolver(template, parameters={"SkillId": SKILL_ID}).resolve(condition) is True
    for not_a_skill in ("not-a-skill", "amzn1.ask.skill.-", "amzn1.ask.skill.123"):
        with pytest.raises(ValueError, match="SkillId"):
            TemplateResolver(template, parameters={"SkillId": not_a_skill})


def test_template_skill_has_error_alarms_and_an_output_for_its_endpoint(template):
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]

    for metric in ("Errors", "Throttles"):
        assert any(
            a["MetricName"] == metric
            and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "SkillFunction"}}]
            for a in alarms
        )
    assert any(a["MetricName"] == "SkillUnanswered" for a in alarms)
    assert template["Outputs"]["SkillFunctionArn"]["Value"] == {
        "Fn::GetAtt": ["SkillFunction", "Arn"]
    }


def test_skill_makefile_builds_for_the_layers_platform():
    def platform(path: Path) -> tuple[str, str]:
        text = path.read_text()
        return (
            re.search(r"^LAMBDA_PLATFORM \?= (\S+)$", text, re.M)[1],
            re.search(r"^LAMBDA_PYTHON \?= (\S+)$", text, re.M)[1],
        )

    assert platform(ROOT / "skill/Makefile") == platform(ROOT / "shared/Makefile")
    assert "build-SkillFunction:" in (ROOT / "skill/Makefile").read_text()


def test_template_skill_role_writes_no_table_but_its_reminders(resolver):
    # Given every statement of the skill's role
    statements = _role_statements(resolver)

    # When collecting what each DynamoDB write action may touch
    written = {
        resource
        for s in statements
        for action in as_list(s["Action"])
        if action.startswith("dynamodb:") and action not in ("dynamodb:Query", "dynamodb:GetItem")
        for resource in as_list(s["Resource"])
    }

    # Then it is the reminders table alone (not the events table, not the runs table)
    assert written == {resolver.get_att("RemindersTable", "Arn")}
