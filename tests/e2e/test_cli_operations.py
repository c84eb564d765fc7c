"""Operator commands as a user runs them: replay-dlq, status --stack, endpoint precedence."""

from __future__ import annotations

import json
from functools import partial

import boto3
import pytest
from support import cli
from support.sqs import message_count

# Operator commands answer quickly: give up on a hung one sooner than the sync tests do.
run_cli = partial(cli.run_cli, timeout=120)
SQS_ONLY = (
    "the command under test reads queues only; the CLI's DynamoDB endpoints are tested on "
    "both backends in test_cli_endpoints.py"
)


@pytest.mark.dynamodb_backends("moto", reason=SQS_ONLY)
def test_cli_replay_dlq_dry_run_then_moves_every_message(deployment, moto_endpoint, cli_env):
    # Given three dead letters in the events DLQ
    sqs, dlq = deployment.clients.sqs, deployment.resources.queue_urls["EventsDLQ"]
    for n in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody=f"dead letter {n}")

    # When the operator looks first, then replays
    dry = run_cli(
        "replay-dlq",
        "--endpoint-url",
        moto_endpoint,
        "--env",
        "test",
        "--queue",
        "events",
        "--dry-run",
        env=cli_env,
    )
    after_dry_run = message_count(sqs, dlq, in_flight=False)
    real = run_cli(
        "replay-dlq",
        "--endpoint-url",
        moto_endpoint,
        "--env",
        "test",
        "--queue",
        "events",
        "--json",
        env=cli_env,
    )

    # Then the dry run moved nothing, and the replay moved all three back to the events queue
    assert dry.returncode == 0 and "would move 3" in dry.stdout
    assert after_dry_run == 3
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout)[0]["moved"] == 3
    assert message_count(sqs, dlq, in_flight=False) == 0
    events_queue = deployment.resources.queue_urls["EventsQueue"]
    assert message_count(sqs, events_queue, in_flight=False) == 3


@pytest.mark.dynamodb_backends("moto", reason=SQS_ONLY)
def test_cli_replay_dlq_moves_reminders_dead_letters_to_the_reminders_queue(
    deployment, moto_endpoint, cli_env
):
    # Given a change RemindersFunction gave up on, in the reminders' DLQ
    sqs, dlq = deployment.clients.sqs, deployment.resources.queue_urls["RemindersDLQ"]
    sqs.send_message(QueueUrl=dlq, MessageBody='{"detail-type": "Event Moved"}')

    # When the operator replays that DLQ
    result = run_cli(
        "replay-dlq", "--endpoint-url", moto_endpoint, "--env", "test", "--queue", "reminders",
        "--json", env=cli_env,
    )  # fmt: skip

    # Then it is back on the reminders queue, the DLQ empty
    assert result.returncode == 0, result.stderr
    assert [(r["dlq"], r["moved"]) for r in json.loads(result.stdout)] == [("RemindersDLQ", 1)]
    assert message_count(sqs, dlq, in_flight=False) == 0
    reminders_queue = deployment.resources.queue_urls["RemindersQueue"]
    assert message_count(sqs, reminders_queue, in_flight=False) == 1


def test_cli_status_stack_reads_resources_from_stack_outputs(deployment, moto_endpoint, cli_env):
    # Given a CloudFormation stack whose outputs name the deployed tables and queues
    resources = deployment.resources
    outputs = {
        "EventsTableName": resources.tables["EventsTable"],
        "RunsTableName": resources.tables["RunsTable"],
        "EventsQueueUrl": resources.queue_urls["EventsQueue"],
        "EventsDLQUrl": resources.queue_urls["EventsDLQ"],
    }
    body = {
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = boto3.client("cloudformation", endpoint_url=moto_endpoint)
    cloudformation.create_stack(StackName="villages-sync-prod", TemplateBody=json.dumps(body))
    deployment.clients.sqs.send_message(QueueUrl=outputs["EventsDLQUrl"], MessageBody="x")

    # When the operator asks for the stack's status
    result = run_cli(
        "status",
        "--stack",
        "villages-sync-prod",
        "--endpoint-url",
        moto_endpoint,
        "--dynamodb-endpoint-url",
        deployment.dynamodb_url,
        "--json",
        env=cli_env,
    )

    # Then the queues come from the outputs, with the dead letter counted
    assert result.returncode == 0, result.stderr
    queues = {q["name"]: q for q in json.loads(result.stdout)["queues"]}
    assert set(queues) == {"EventsQueue", "EventsDLQ"}
    assert queues["EventsDLQ"]["visible"] == 1 and queues["EventsDLQ"]["is_dlq"]


def test_cli_status_unknown_stack_exits_1_naming_it(moto_endpoint, cli_env):
    # Given no such stack / When asked for its status / Then the error names the stack
    result = run_cli("status", "--stack", "nope", "--endpoint-url", moto_endpoint, env=cli_env)
    assert result.returncode == 1
    assert "'nope'" in result.stderr


@pytest.mark.dynamodb_backends("moto", reason=SQS_ONLY)
def test_cli_endpoint_url_flag_wins_over_environment(deployment, moto_endpoint, cli_env):
    # Given AWS_ENDPOINT_URL pointing nowhere, and the flag pointing at the emulator
    env = {**cli_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}

    # When status runs with the flag
    result = run_cli("status", "--endpoint-url", moto_endpoint, "--env", "test", "--json", env=env)

    # Then the flag's endpoint was used
    assert result.returncode == 0, result.stderr
    assert moto_endpoint in json.loads(result.stdout)["target"]
