"""The settings a local sync gives each function: SAM's sources, checked before the run."""

from __future__ import annotations

import json

import pytest
from villages_sync_ops.local.function_settings import (
    SettingsProblem,
    check_settings,
    function_overrides,
    known_settings,
    load_env_vars_file,
    offline_functions,
    parse_parameter_overrides,
    shell_settings,
)
from villages_sync_ops.local.template import load_template


@pytest.fixture(scope="module")
def functions():
    return offline_functions(load_template(), {"Environment": "unit"}, "us-east-1")


def test_parse_parameter_overrides_takes_both_sam_spellings():
    parsed = parse_parameter_overrides(
        ["DaysAhead=7 LogLevel=DEBUG", "ParameterKey=SweepMinRatio,ParameterValue=0.3"]
    )
    assert parsed == {"DaysAhead": "7", "LogLevel": "DEBUG", "SweepMinRatio": "0.3"}


def test_parse_parameter_overrides_without_equals_names_the_token():
    with pytest.raises(SettingsProblem, match="'DaysAhead'"):
        parse_parameter_overrides(["DaysAhead"])


def test_known_settings_include_template_and_settings_class_variables(functions):
    known = known_settings(functions)
    assert {"DAYS_AHEAD", "MAX_ATTEMPTS", "BACKOFF_BASE_SECONDS"} <= known["ProducerFunction"]
    assert "SWEEP_MIN_RATIO" in known["SweepFunction"]
    assert "DAYS_AHEAD" not in known["ConsumerFunction"]


def test_shell_variables_apply_only_to_functions_that_read_them(functions):
    # Given DAYS_AHEAD and LOG_LEVEL in the shell, and an unrelated variable
    known = known_settings(functions)
    shell = shell_settings({"DAYS_AHEAD": "5", "LOG_LEVEL": "DEBUG", "HOME": "/x"}, known)

    # When the overrides are worked out
    overrides = function_overrides(known, shell=shell, env_vars=load_env_vars_file_empty())

    # Then the producer gets both, the consumer only LOG_LEVEL, nobody gets HOME
    assert overrides["ProducerFunction"] == {"DAYS_AHEAD": "5", "LOG_LEVEL": "DEBUG"}
    assert overrides["ConsumerFunction"] == {"LOG_LEVEL": "DEBUG"}


def load_env_vars_file_empty():
    from villages_sync_ops.local.function_settings import EnvVarsFile

    return EnvVarsFile()


def test_env_vars_file_per_function_wins_over_parameters_and_shell(functions, tmp_path):
    path = tmp_path / "env.json"
    path.write_text(
        json.dumps(
            {"Parameters": {"LOG_LEVEL": "WARNING"}, "ProducerFunction": {"LOG_LEVEL": "ERROR"}}
        )
    )
    known = known_settings(functions)
    env_vars = load_env_vars_file(path, list(functions))
    overrides = function_overrides(known, shell={"LOG_LEVEL": "DEBUG"}, env_vars=env_vars)
    assert overrides["ProducerFunction"]["LOG_LEVEL"] == "ERROR"
    assert overrides["SweepFunction"]["LOG_LEVEL"] == "WARNING"


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"NoSuchFunction": {"X": "1"}}, "NoSuchFunction"),
        ({"ProducerFunction": {"NOT_A_SETTING": "1"}}, "NOT_A_SETTING"),
        ({"Parameters": {"NOT_A_SETTING": "1"}}, "NOT_A_SETTING"),
        ({"ProducerFunction": ["DAYS_AHEAD"]}, "ProducerFunction"),
    ],
)
def test_env_vars_file_mistakes_name_what_is_wrong(functions, tmp_path, document, named):
    path = tmp_path / "env.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SettingsProblem, match=named):
        env_vars = load_env_vars_file(path, list(functions))
        function_overrides(known_settings(functions), shell={}, env_vars=env_vars)


def test_check_settings_names_function_variable_and_range(functions):
    overrides = {"ProducerFunction": {"DAYS_AHEAD": "-3"}}
    with pytest.raises(SettingsProblem, match=r"ProducerFunction: DAYS_AHEAD='-3' .*0-366"):
        check_settings(functions, overrides)
    check_settings(functions, {})  # the template's own values are valid
