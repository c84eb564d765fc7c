"""The skill's operations edges, through SkillFunction's handler in the local Lambda runtime
against a local deployment: Alexa's error notices, and refusing what is not for this skill
(fail closed). Asserted on what Alexa gets back and on the function's own JSON logs and EMF
metrics, as CloudWatch would receive them."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from support.skill import TZ, at, speech_of
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.skill.envelopes import LOCAL_SKILL_ID, _request, envelope, launch_request

pytestmark = pytest.mark.dynamodb_once(reason="no table semantics: the handler's edges")

OTHER_SKILL = "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"


def _invoke(deployment: Any, event: dict[str, Any], **extra_env: str) -> tuple[Any, list[dict]]:
    """The invocation and every JSON line the function wrote (logs and EMF metrics)."""
    log = io.StringIO()
    invocation = LocalPipeline(
        deployment, SyncOptions(function_log=log, extra_env=extra_env)
    ).invoke_function("SkillFunction", event)
    lines = []
    for line in log.getvalue().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return invocation, lines


def _metrics(lines: list[dict]) -> dict[str, float]:
    """Metric name -> value, summed over the EMF documents the function printed."""
    found: dict[str, float] = {}
    for line in lines:
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = line[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                found[metric["Name"]] = found.get(metric["Name"], 0) + sum(values)
    return found


def _exception_encountered(now) -> dict[str, Any]:
    request = _request(
        "System.ExceptionEncountered",
        now,
        error={"type": "INVALID_RESPONSE", "message": "The response contains invalid SSML"},
        cause={"requestId": "amzn1.echo-api.request.the-one-that-failed"},
    )
    event = envelope(request)
    del event["session"]  # Alexa sends the notice outside any session
    return event


def test_skill_alexa_error_notice_is_logged_answered_with_nothing_and_not_unanswered(deployment):
    # Given Alexa's notice that one of the skill's responses failed
    event = _exception_encountered(at(deployment_day(), 20))

    # When it reaches the skill
    invocation, lines = _invoke(deployment, event)

    # Then Alexa gets an empty response (no speech, no card), the notice is logged at INFO
    # with what Alexa said, and nothing counts towards the SkillUnanswered alarm
    assert invocation.succeeded, invocation.error_text
    response = invocation.payload["response"]
    assert "outputSpeech" not in response and "card" not in response
    (notice,) = [
        line for line in lines if line.get("message") == "alexa reported an error with a response"
    ]
    assert notice["level"] == "INFO"
    assert notice["error_type"] == "INVALID_RESPONSE"
    assert notice["error_message"] == "The response contains invalid SSML"
    assert notice["cause_request_id"] == "amzn1.echo-api.request.the-one-that-failed"
    assert "SkillUnanswered" not in _metrics(lines)


def test_skill_local_deployment_answers_its_own_skill(deployment):
    # Given a local deployment (it names the local skill, as a real one names the real skill)
    # When a local envelope arrives / Then it is answered
    invocation, _ = _invoke(deployment, launch_request(now=at(deployment_day(), 9)))

    assert invocation.succeeded, invocation.error_text
    assert "Welcome" in speech_of(invocation.payload)


@pytest.mark.parametrize(
    ("configured", "sent_for", "reason"),
    [
        (LOCAL_SKILL_ID, OTHER_SKILL, "the request is for another skill"),
        ("", LOCAL_SKILL_ID, "no skill id is configured"),
    ],
    ids=["an envelope from another skill", "no skill id configured"],
)
def test_skill_refuses_what_is_not_for_it_logged_and_counted(
    deployment, configured, sent_for, reason
):
    # Given the function configured with this skill id (or none, as a deploy without SkillId)
    event = launch_request(now=at(deployment_day(), 9), skill_id=sent_for)

    # When a request arrives
    invocation, lines = _invoke(deployment, event, SKILL_ID=configured)

    # Then it is refused with an error (Lambda's Errors metric and alarm see it), the refusal
    # is logged with its reason and counted, and nothing is said
    assert not invocation.succeeded
    assert reason in invocation.error_text
    refused = [line for line in lines if line.get("message") == "request refused"]
    assert len(refused) == 1 and reason in refused[0]["reason"]
    assert refused[0]["level"] == "WARNING"
    assert _metrics(lines).get("SkillRequestsRefused") == 1
    assert "SkillRequests" not in _metrics(lines)


def deployment_day() -> date:
    return datetime.now(TZ).date() + timedelta(days=3)
