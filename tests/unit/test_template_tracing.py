"""Tracing in template.yaml: every function is traced by Lambda itself (``Tracing: Active``);
the ADOT layer and its wrapper are added only when the ``AdotLayerArn`` parameter names one.

Read three ways: the local template reader (what ``villages-sync`` runs), aws-sam-translator
(what ``sam deploy`` sends to CloudFormation) and cfn-lint on that translation.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from villages_sync_ops.local.template import TemplateError, TemplateResolver, read_functions

ADOT_ARN = "arn:aws:lambda:us-east-1:615299751070:layer:AWSOpenTelemetryDistroPython:16"
WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"
FUNCTIONS = {
    "ProducerFunction",
    "ConsumerFunction",
    "SweepFunction",
    "ChangesFunction",
    "SkillFunction",
    "RemindersFunction",
}


def _layers(resolver: TemplateResolver, function_id: str) -> list[Any]:
    """The function's layers as CloudFormation would see them (Globals then its own)."""
    own = resolver.properties(function_id).get("Layers", [])
    return resolver.resolve(resolver.template["Globals"]["Function"]["Layers"] + own)


def test_every_function_is_traced_and_none_turns_it_off(template: dict[str, Any]) -> None:
    resolver = TemplateResolver(template)

    assert resolver.template["Globals"]["Function"]["Tracing"] == "Active"
    assert set(read_functions(resolver)) == FUNCTIONS
    assert {f: resolver.properties(f).get("Tracing", "Active") for f in FUNCTIONS} == dict.fromkeys(
        FUNCTIONS, "Active"
    )


def test_without_an_adot_layer_functions_get_the_shared_layer_alone_and_no_wrapper(
    template: dict[str, Any],
) -> None:
    # Given the template with its defaults (AdotLayerArn empty)
    resolver = TemplateResolver(template)
    shared_layer = resolver.ref("SharedLayer")

    # Then each function loads the shared layer only, and no exec wrapper is set
    functions = read_functions(resolver)
    for function_id in FUNCTIONS:
        assert _layers(resolver, function_id) == [shared_layer]
        assert WRAPPER not in functions[function_id].environment


def test_an_adot_layer_arn_adds_the_layer_and_its_wrapper_to_every_function(
    template: dict[str, Any],
) -> None:
    # Given the parameter naming an ADOT layer
    resolver = TemplateResolver(template, parameters={"AdotLayerArn": ADOT_ARN})
    shared_layer = resolver.ref("SharedLayer")

    # Then every function loads both layers and runs under ADOT's wrapper
    functions = read_functions(resolver)
    for function_id in FUNCTIONS:
        assert _layers(resolver, function_id) == [shared_layer, ADOT_ARN]
        assert functions[function_id].environment[WRAPPER] == "/opt/otel-instrument"
        # and keeps the rest of its environment (Globals and its own variables merged)
        assert "LOG_LEVEL" in functions[function_id].environment


@pytest.mark.parametrize(
    "value",
    [
        "not-an-arn",
        "arn:aws:lambda:us-east-1:615299751070:layer:AWSOpenTelemetryDistroPython",  # no version
        "arn:aws:lambda:us-east-1:6152997510:layer:X:1",  # account id too short
    ],
)
def test_adot_layer_arn_must_be_a_layer_version_arn(template: dict[str, Any], value: str) -> None:
    with pytest.raises(TemplateError, match="AdotLayerArn"):
        TemplateResolver(template, parameters={"AdotLayerArn": value})


@pytest.mark.parametrize("adot", [False, True], ids=["no-adot", "adot"])
def test_sam_translation_keeps_the_condition_and_lints_clean(
    template: dict[str, Any], adot: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfnlint.api import ManualArgs, lint
    from samtranslator.translator.transform import transform

    # Given the template translated by SAM, as `sam deploy` would
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://villages-sync-artifacts/{properties[key].rstrip('/')}"
    parameters = {"Environment": "it", **({"AdotLayerArn": ADOT_ARN} if adot else {})}
    cfn = transform(sam, parameters, _NoManagedPolicies())

    # Then each Lambda function is traced, has the shared layer and the conditional ADOT one
    # (CloudFormation drops AWS::NoValue from the list and from the variables)
    conditional_layer = {
        "Fn::If": ["HasAdotLayer", {"Ref": "AdotLayerArn"}, {"Ref": "AWS::NoValue"}]
    }
    conditional_wrapper = {
        "Fn::If": ["HasAdotLayer", "/opt/otel-instrument", {"Ref": "AWS::NoValue"}]
    }
    lambdas = {
        logical_id: resource["Properties"]
        for logical_id, resource in cfn["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert set(lambdas) == FUNCTIONS
    for properties in lambdas.values():
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Layers"][-1] == conditional_layer
        assert len(properties["Layers"]) == 2
        assert properties["Environment"]["Variables"][WRAPPER] == conditional_wrapper
    assert cfn["Conditions"]["HasAdotLayer"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AdotLayerArn"}, ""]}]
    }
    # and cfn-lint finds no error in the translation (warnings W1020: SAM's own Fn::Sub)
    matches = lint(json.dumps(cfn), config=ManualArgs(regions=["us-east-1"]))
    assert [m for m in matches if m.rule.id.startswith("E")] == []


class _NoManagedPolicies:
    """No managed policy is looked up in IAM (the template names none)."""

    def load(self) -> dict[str, str]:
        return {}


def test_local_runs_accept_an_adot_layer_parameter_and_check_every_setting(
    template: dict[str, Any],
) -> None:
    from villages_sync_ops.local.function_settings import (
        check_settings,
        known_settings,
        offline_functions,
    )

    # Given `villages-sync` run with --parameter-overrides AdotLayerArn=...
    functions = offline_functions(template, {"AdotLayerArn": ADOT_ARN}, "us-east-1")
    known = known_settings(functions)

    # Then every function's settings still parse, and the wrapper is one of its known variables
    # (set in its environment, which runs in-process locally: no wrapper is executed)
    check_settings(functions, {logical_id: {} for logical_id in known})
    assert all(WRAPPER in names for names in known.values())
