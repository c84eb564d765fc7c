"""Bad input is named, with exit 2, before anything runs; a wrong endpoint is said as such."""

from __future__ import annotations

import pytest
from support.cli import run_cli
from villages_sync_ops.local.ports import free_port


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["sync", "--parameter-overrides", "Environment=Prod_1"], "Environment"),
        (["sync", "--parameter-overrides", "Environment=staging"], "--env staging"),
        (["runs", "--env", "Prod_1"], "--env"),
        (["status", "--env", "Prod_1"], "--env"),
        (["logs", "--function", "nosuch"], "producer"),
    ],
)
def test_bad_value_exits_2_naming_it_before_anything_runs(cli_env, arguments, named):
    # Given a closed endpoint (nothing may be reached before the check)
    endpoint = f"http://127.0.0.1:{free_port()}"
    target = [] if arguments[0] == "logs" else ["--endpoint-url", endpoint]

    # When the command runs with the bad value
    result = run_cli(*arguments, *target, env=cli_env, timeout=60)

    # Then exit 2 naming it, and no summary
    assert result.returncode == 2, result.stdout + result.stderr
    assert named in result.stderr
    assert result.stdout == ""


def test_logs_function_unknown_lists_every_known_name(cli_env):
    result = run_cli("logs", "--function", "nosuch", env=cli_env, timeout=60)
    assert result.returncode == 2
    for name in ("producer", "consumer", "sweep", "ProducerFunction", "ConsumerFunction"):
        assert name in result.stderr


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"])
@pytest.mark.parametrize("command", [["status"], ["runs"], ["events"], ["sync"]])
def test_endpoint_variable_that_is_not_a_url_is_a_usage_error_naming_it(cli_env, variable, command):
    result = run_cli(*command, env={**cli_env, variable: "notaurl"}, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert variable in result.stderr and "notaurl" in result.stderr
    assert "unexpected" not in result.stderr


@pytest.mark.parametrize("command", [["status"], ["runs"], ["events", "--date", "today"]])
def test_nothing_listening_on_endpoint_says_so_not_credentials(cli_env, command):
    # Given an endpoint nothing listens on, and no credentials at all
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in cli_env.items() if not k.startswith("AWS_")}

    # When the operator reads from it
    result = run_cli(*command, "--endpoint-url", endpoint, env=env, timeout=60)

    # Then the message points at the endpoint, not at credentials
    assert result.returncode == 1
    assert f"nothing answers at {endpoint}" in result.stderr
    assert "--endpoint-url" in result.stderr
    assert "credentials" not in result.stderr
