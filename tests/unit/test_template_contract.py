"""The template's invariants, asserted by reading template.yaml (never by restating it).

Each test names the property that would break the pipeline in AWS if it regressed: a DLQ that
swallows messages too early, a visibility timeout shorter than a retried batch, a function whose
settings cannot be parsed from the environment the template gives it, a policy that lets the
producer or the consumer delete events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.template import as_list
from villages_sync.aws.event_reads import MULTI_DAY_INDEX
from villages_sync.models import EventItem
from villages_sync.settings import (
    ChangesSettings,
    ConsumerSettings,
    ProducerSettings,
    SweepSettings,
)
from villages_sync_ops.local.template import (
    TEMPLATE_ENV_VAR,
    TEMPLATE_LOADER,
    PythonTemplateLoader,
    TemplateError,
    TemplateResolver,
    default_template_path,
    load_template,
    read_event_source_mappings,
    read_functions,
    read_queues,
    read_tables,
)

SETTINGS_OF_FUNCTION = {
    "ProducerFunction": ProducerSettings,
    "ConsumerFunction": ConsumerSettings,
    "SweepFunction": SweepSettings,
    "ChangesFunction": ChangesSettings,
}
REQUIRED_OUTPUTS = {
    "EventsTableName",
    "RunsTableName",
    "EventsQueueUrl",
    "EventsDLQUrl",
    "SweepQueueUrl",
    "SweepDLQUrl",
    "ProducerFunctionName",
    "ConsumerFunctionName",
    "SweepFunctionName",
    "ChangesFunctionName",
    "ChangesTableName",
    "ChangesBusName",
    "ChangesFailureQueueUrl",
    "AlarmTopicArn",
    "DashboardName",
}


@pytest.fixture(scope="module")
def resolver(template: dict[str, Any]) -> TemplateResolver:
    return TemplateResolver(template)


def _resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]


def _statements(resolver: TemplateResolver, function_id: str) -> list[dict[str, Any]]:
    """The statements of the function's own role, every intrinsic resolved."""
    properties = resolver.properties(function_id)
    assert "Policies" not in properties, f"{function_id}: SAM policies would add a managed role"
    role_id = properties["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in resolver.properties(role_id)["Policies"]:
        statements.extend(resolver.resolve(policy["PolicyDocument"]["Statement"]))
    return statements


def _actions_anywhere(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("Action", "NotAction"):
                yield from as_list(value)
            yield from _actions_anywhere(value)
    elif isinstance(node, list):
        for item in node:
            yield from _actions_anywhere(item)


# ----------------------------------------------------------------------------------- queues


def test_template_dead_letter_queues_receive_count_at_least_five(
    resolver: TemplateResolver,
) -> None:
    # Given the template's queues
    queues = read_queues(resolver)

    # When looking at every queue that redrives
    redriving = [q for q in queues.values() if q.dead_letter_queue_logical_id]

    # Then each gives a message 5 tries or more, and its DLQ outlives the source's retention
    assert {q.logical_id for q in redriving} == {"EventsQueue", "SweepQueue", "RemindersQueue"}
    for queue in redriving:
        dlq = queues[queue.dead_letter_queue_logical_id]
        assert queue.max_receive_count is not None and queue.max_receive_count >= 5
        assert int(dlq.attributes["MessageRetentionPeriod"]) > int(
            queue.attributes["MessageRetentionPeriod"]
        ), f"{dlq.logical_id} must keep messages longer than {queue.logical_id}"


def test_template_visibility_timeout_covers_six_function_timeouts_plus_window(
    resolver: TemplateResolver,
) -> None:
    # Given every SQS event source and the function it feeds
    functions = read_functions(resolver)
    queues = read_queues(resolver)

    # When comparing the queue's visibility timeout with the function's timeout
    mappings = read_event_source_mappings(resolver)

    # Then the queue hides a batch for 6 x timeout + batching window (AWS's guidance)
    assert {(m.function_logical_id, m.queue_logical_id) for m in mappings} == {
        ("ConsumerFunction", "EventsQueue"),
        ("SweepFunction", "SweepQueue"),
        ("RemindersFunction", "RemindersQueue"),
    }
    for mapping in mappings:
        timeout = functions[mapping.function_logical_id].timeout_seconds
        visibility = int(queues[mapping.queue_logical_id].attributes["VisibilityTimeout"])
        assert visibility >= 6 * timeout + mapping.maximum_batching_window_seconds


def test_template_sqs_events_report_batch_item_failures(resolver: TemplateResolver) -> None:
    mappings = read_event_source_mappings(resolver)

    assert mappings
    assert all(m.report_batch_item_failures for m in mappings)


def test_template_consumer_event_source_batches_and_caps_concurrency(
    resolver: TemplateResolver,
) -> None:
    (consumer,) = [
        m
        for m in read_event_source_mappings(resolver)
        if m.function_logical_id == "ConsumerFunction"
    ]
    (sweep,) = [
        m for m in read_event_source_mappings(resolver) if m.function_logical_id == "SweepFunction"
    ]

    assert (consumer.batch_size, consumer.maximum_batching_window_seconds) == (10, 5)
    assert consumer.maximum_concurrency == 5
    assert sweep.batch_size == 1
    # Lambda rejects a MaximumConcurrency below 2.
    assert all(
        m.maximum_concurrency is None or m.maximum_concurrency >= 2
        for m in read_event_source_mappings(resolver)
    )


# --------------------------------------------------------------------------------- functions


def test_template_functions_run_python_312_or_later_on_arm64(template: dict[str, Any]) -> None:
    # Given the Globals and each function's own properties
    globals_ = template["Globals"]["Function"]
    layer = _resource(template, "SharedLayer")["Properties"]

    for function_id in SETTINGS_OF_FUNCTION:
        props = {**globals_, **_resource(template, function_id)["Properties"]}

        # Then the runtime is python3.12+ on arm64, and the layer is built for exactly that
        runtime = props["Runtime"]
        major, minor = (int(part) for part in runtime.removeprefix("python").split("."))
        assert (major, minor) >= (3, 12), f"{function_id} runs {runtime}"
        assert props["Architectures"] == ["arm64"]
        assert runtime in layer["CompatibleRuntimes"]
        assert props["Architectures"][0] in layer["CompatibleArchitectures"]
        assert {"Ref": "SharedLayer"} in props["Layers"]
    layer_metadata = _resource(template, "SharedLayer")["Metadata"]
    assert layer_metadata["BuildArchitecture"] == "arm64"
    # BuildMethod makefile: shared/Makefile must build wheels for that same Python
    assert layer_metadata["BuildMethod"] == "makefile"
    makefile = (Path(__file__).resolve().parents[2] / "shared" / "Makefile").read_text()
    built_for = re.search(r"^LAMBDA_PYTHON \?= (\S+)$", makefile, re.M)[1]
    assert f"python{built_for}" in layer["CompatibleRuntimes"]


@pytest.mark.parametrize("function_id", sorted(SETTINGS_OF_FUNCTION))
def test_template_function_environment_parses_into_its_settings(
    resolver: TemplateResolver, function_id: str
) -> None:
    # Given the environment the template gives the function (Globals merged, intrinsics resolved)
    environment = read_functions(resolver)[function_id].environment

    # When the handler parses its settings from it
    settings = SETTINGS_OF_FUNCTION[function_id].from_env(environment)

    # Then nothing is missing or malformed, and the names point at the template's resources
    tables = read_tables(resolver)
    if hasattr(settings, "runs_table_name"):
        assert settings.runs_table_name == tables["RunsTable"].table_name
    if hasattr(settings, "changes_table_name"):
        assert settings.changes_table_name == tables["ChangesTable"].table_name
        assert settings.changes_bus_name == resolver.ref("ChangesBus")
    if hasattr(settings, "table_name"):
        assert settings.table_name == tables["EventsTable"].table_name
    if hasattr(settings, "sweep_queue_url"):
        assert settings.sweep_queue_url.endswith(
            "/" + read_queues(resolver)["SweepQueue"].queue_name
        )


def test_template_producer_settings_follow_parameters(template: dict[str, Any]) -> None:
    # Given non-default parameters
    resolver = TemplateResolver(
        template,
        parameters={
            "Environment": "qa",
            "DaysAhead": "30",
            "CalendarBaseUrl": "http://127.0.0.1:8080",
            "LogLevel": "DEBUG",
        },
    )

    # When the producer reads its environment
    settings = ProducerSettings.from_env(read_functions(resolver)["ProducerFunction"].environment)

    # Then the parameters reached it
    assert settings.days_ahead == 30
    assert settings.calendar.base_url == "http://127.0.0.1:8080"
    assert settings.log_level == "DEBUG"
    assert settings.runs_table_name == "villages-sync-runs-qa"


def test_template_handlers_resolve_to_importable_module_paths(resolver: TemplateResolver) -> None:
    functions = read_functions(resolver)

    assert functions["ProducerFunction"].handler_path == "producers.scrape_handler.lambda_handler"
    assert functions["ConsumerFunction"].handler_path == "consumers.upsert_handler.lambda_handler"
    assert functions["SweepFunction"].handler_path == "consumers.sweep_handler.lambda_handler"
    assert functions["ProducerFunction"].reserved_concurrency == 1


def test_template_log_groups_keep_30_days_and_belong_to_their_function(
    resolver: TemplateResolver,
) -> None:
    functions = read_functions(resolver)
    for function_id, function in functions.items():
        # Given the log group the function logs to
        logging_config = resolver.properties(function_id)["LoggingConfig"]
        log_group_id = logging_config["LogGroup"]["Ref"]
        log_group = resolver.resolve(resolver.properties(log_group_id))

        # Then it is Lambda's default name for that function, kept 30 days
        assert log_group["LogGroupName"] == f"/aws/lambda/{function.function_name}"
        assert log_group["RetentionInDays"] == 30


# ------------------------------------------------------------------------------------ tables


def test_template_events_table_date_index_keys_and_projection(
    resolver: TemplateResolver,
) -> None:
    table = read_tables(resolver)["EventsTable"]

    assert table.key_schema == [{"AttributeName": "event_id", "KeyType": "HASH"}]
    (index,) = [i for i in table.global_secondary_indexes if i["IndexName"] == "date-index"]
    assert index["KeySchema"] == [
        {"AttributeName": "event_date", "KeyType": "HASH"},
        {"AttributeName": "start_time", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    # Every key attribute is an attribute of the stored item, as a string.
    types = {a["AttributeName"]: a["AttributeType"] for a in table.attribute_definitions}
    assert types == {
        "event_id": "S",
        "event_date": "S",
        "start_time": "S",
        "span": "S",
        "end_date": "S",
    }
    assert set(types) <= set(EventItem.__annotations__)


def test_template_events_table_multi_day_index_sparse_on_span(resolver: TemplateResolver) -> None:
    table = read_tables(resolver)["EventsTable"]
    (index,) = [i for i in table.global_secondary_indexes if i["IndexName"] == MULTI_DAY_INDEX]
    # The key the normaliser sets only on multi-day items, and the end date the read ranges on
    assert index["KeySchema"] == [
        {"AttributeName": "span", "KeyType": "HASH"},
        {"AttributeName": "end_date", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}


def test_template_ttl_attributes(resolver: TemplateResolver) -> None:
    tables = read_tables(resolver)

    assert tables["EventsTable"].ttl_attribute == "ttl"
    assert "ttl" in EventItem.__annotations__
    assert tables["RunsTable"].ttl_attribute == "expires_at"


def test_template_runs_table_index_orders_runs_by_start(resolver: TemplateResolver) -> None:
    table = read_tables(resolver)["RunsTable"]

    assert table.key_schema == [{"AttributeName": "run_id", "KeyType": "HASH"}]
    (index,) = table.global_secondary_indexes
    assert index["IndexName"] == "runs-by-start"
    assert index["KeySchema"] == [
        {"AttributeName": "record_type", "KeyType": "HASH"},
        {"AttributeName": "run_id", "KeyType": "RANGE"},
    ]


def test_template_events_table_survives_deletes_and_replacements(
    template: dict[str, Any],
) -> None:
    table = _resource(template, "EventsTable")

    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"


# --------------------------------------------------------------------------------- policies


def test_template_producer_cannot_touch_the_events_table(resolver: TemplateResolver) -> None:
    events_table_arn = resolver.get_att("EventsTable", "Arn")

    resources = [
        resource
        for statement in _statements(resolver, "ProducerFunction")
        for resource in as_list(statement["Resource"])
    ]

    assert resources
    assert not [r for r in resources if r.startswith(events_table_arn)]
    assert "TABLE_NAME" not in read_functions(resolver)["ProducerFunction"].environment


def test_template_consumer_cannot_delete_events(resolver: TemplateResolver) -> None:
    events_table_arn = resolver.get_att("EventsTable", "Arn")

    actions_on_events = {
        action
        for statement in _statements(resolver, "ConsumerFunction")
        if any(r.startswith(events_table_arn) for r in as_list(statement["Resource"]))
        for action in as_list(statement["Action"])
    }

    # BatchWriteItem can delete too; PartiQL could as well. UpdateItem refreshes the marker of
    # an event the run saw but could not store.
    assert actions_on_events == {"dynamodb:PutItem", "dynamodb:UpdateItem"}


def test_template_no_function_may_delete_items(resolver: TemplateResolver) -> None:
    # A deletion is the sweep's tombstone, an UpdateItem (issue 18): nothing sends DeleteItem,
    # so no role may (least privilege; was the sweep's alone).
    deleters = {
        function_id
        for function_id in SETTINGS_OF_FUNCTION
        for statement in _statements(resolver, function_id)
        if {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & set(as_list(statement["Action"]))
    }

    assert deleters == set()


def test_template_sweep_writes_events_only_by_update(resolver: TemplateResolver) -> None:
    events_table_arn = resolver.get_att("EventsTable", "Arn")

    actions_on_events = {
        action
        for statement in _statements(resolver, "SweepFunction")
        if any(r.startswith(events_table_arn) for r in as_list(statement["Resource"]))
        for action in as_list(statement["Action"])
    }

    assert actions_on_events == {"dynamodb:Query", "dynamodb:UpdateItem"}


def test_template_has_no_wildcard_actions(template: dict[str, Any]) -> None:
    actions = list(_actions_anywhere(template["Resources"]))

    assert actions
    assert "*" not in actions


XRAY_WRITE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_template_function_policies_name_their_resources(resolver: TemplateResolver) -> None:
    for function_id in SETTINGS_OF_FUNCTION:
        for statement in _statements(resolver, function_id):
            assert statement["Effect"] == "Allow"
            assert all(not a.endswith(":*") for a in as_list(statement["Action"])), statement
            if set(as_list(statement["Action"])) <= XRAY_WRITE_ACTIONS:
                continue  # tracing: X-Ray's two write actions take no resource ARN
            assert "*" not in as_list(statement["Resource"]), statement


# ------------------------------------------------------------------------------- monitoring


def test_template_every_alarm_notifies_the_alarm_topic(template: dict[str, Any]) -> None:
    alarms = {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }

    assert {
        "EventsDLQMessagesAlarm",
        "SweepDLQMessagesAlarm",
        "EventsQueueAgeAlarm",
        "SweepRefusedAlarm",
        "NoCompletedRunAlarm",
    } <= set(alarms)
    for function_id in SETTINGS_OF_FUNCTION:
        for metric in ("Errors", "Throttles"):
            assert any(
                a["MetricName"] == metric
                and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
                for a in alarms.values()
            ), f"no {metric} alarm for {function_id}"
    for logical_id, alarm in alarms.items():
        assert {"Ref": "AlarmTopic"} in alarm["AlarmActions"], logical_id


def test_template_custom_metric_alarms_match_what_powertools_emits(
    resolver: TemplateResolver,
) -> None:
    # Given the namespace and service Powertools gets from each function's environment
    emitted = {
        (f.environment["POWERTOOLS_METRICS_NAMESPACE"], f.environment["POWERTOOLS_SERVICE_NAME"])
        for f in read_functions(resolver).values()
    }
    (namespace, service) = emitted.pop()
    assert not emitted, "every function must emit into one namespace with one service"

    for alarm_id in ("SweepRefusedAlarm", "NoCompletedRunAlarm"):
        # When resolving the alarm on a custom metric
        alarm = resolver.resolve(resolver.properties(alarm_id))

        # Then it watches exactly what Powertools Metrics publishes
        assert alarm["Namespace"] == namespace
        assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]


def test_template_no_completed_run_alarm_is_a_valid_26_hour_window(
    template: dict[str, Any],
) -> None:
    alarm = _resource(template, "NoCompletedRunAlarm")["Properties"]

    window = alarm["Period"] * alarm["EvaluationPeriods"]
    assert window == 26 * 3600
    # CloudWatch: at most 7 days in total for periods of an hour or more.
    assert alarm["Period"] >= 3600 and window <= 7 * 86400
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]
    assert alarm["TreatMissingData"] == "breaching"


def test_template_dashboard_body_is_json_naming_every_queue(resolver: TemplateResolver) -> None:
    body = resolver.resolve(resolver.properties("Dashboard")["DashboardBody"])

    widgets = json.loads(body)["widgets"]

    rendered = json.dumps(widgets)
    for queue in read_queues(resolver).values():
        assert f'"{queue.queue_name}"' in rendered
    for metric in ("EventsFetched", "EventsAdded", "EventsDeleted", "RunDurationSeconds"):
        assert metric in rendered


def test_template_outputs_name_every_resource(template: dict[str, Any]) -> None:
    assert set(template["Outputs"]) >= REQUIRED_OUTPUTS


def test_template_alarm_email_subscription_only_when_an_address_is_given(
    template: dict[str, Any],
) -> None:
    without = TemplateResolver(template)
    with_email = TemplateResolver(template, parameters={"AlarmEmail": "ops@example.com"})

    assert not without.exists("AlarmEmailSubscription")
    assert with_email.exists("AlarmEmailSubscription")


# --------------------------------------------------------------------- the template reader


def test_load_template_turns_short_tags_into_long_forms(tmp_path: Path) -> None:
    # Given a template written with short tags
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      A: !Ref Env\n"
        "      B: !GetAtt Dlq.Arn\n"
        '      C: !Sub "x-${Env}"\n'
        '      D: !Sub ["${V}", {V: !Ref Env}]\n'
        "      E: !If [Cond, !Join ['-', [a, b]], !Select [0, !Split [',', 'p,q']]]\n"
        "      F: !Not [!Equals [!Ref Env, '']]\n"
        "      G: !FindInMap [M, K, V]\n",
        encoding="utf-8",
    )

    # When it is loaded
    props = load_template(path)["Resources"]["Q"]["Properties"]

    # Then every tag is in its long form
    assert props["A"] == {"Ref": "Env"}
    assert props["B"] == {"Fn::GetAtt": ["Dlq", "Arn"]}
    assert props["C"] == {"Fn::Sub": "x-${Env}"}
    assert props["D"] == {"Fn::Sub": ["${V}", {"V": {"Ref": "Env"}}]}
    assert props["E"] == {
        "Fn::If": [
            "Cond",
            {"Fn::Join": ["-", ["a", "b"]]},
            {"Fn::Select": [0, {"Fn::Split": [",", "p,q"]}]},
        ]
    }
    assert props["F"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "Env"}, ""]}]}
    assert props["G"] == {"Fn::FindInMap": ["M", "K", "V"]}


def test_resolver_evaluates_intrinsics() -> None:
    template = {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}},
        "Mappings": {"M": {"K": {"V": "mapped"}}},
        "Resources": {
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "q-${Env}"}}}
        },
    }
    resolver = TemplateResolver(template, stack_name="s", region="eu-west-1", account_id="1")

    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}/${AWS::Region}/${Env}"}) == (
        "s/eu-west-1/dev"
    )
    assert resolver.resolve({"Fn::Sub": ["${A}-${!Literal}", {"A": {"Ref": "Env"}}]}) == (
        "dev-${Literal}"
    )
    assert resolver.resolve({"Fn::If": ["IsDev", "yes", "no"]}) == "yes"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]}) == "a-dev"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}) == "y"
    assert resolver.resolve({"Fn::FindInMap": ["M", "K", "V"]}) == "mapped"
    assert resolver.resolve(["a", {"Ref": "AWS::NoValue"}]) == ["a"]
    assert resolver.get_att("Q", "Arn") == "arn:aws:sqs:eu-west-1:1:q-dev"


def test_resolver_rejects_parameters_the_template_would_reject(
    template: dict[str, Any],
) -> None:
    with pytest.raises(TemplateError, match="Environment"):
        TemplateResolver(template, parameters={"Environment": "Prod"})
    with pytest.raises(TemplateError, match="DaysAhead"):
        TemplateResolver(template, parameters={"DaysAhead": "400"})
    with pytest.raises(TemplateError, match="unknown parameters: Nope"):
        TemplateResolver(template, parameters={"Nope": "x"})


def test_default_template_path_honours_the_environment_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(TEMPLATE_ENV_VAR, raising=False)
    assert default_template_path().name == "template.yaml"
    assert default_template_path().is_file()

    monkeypatch.setenv(TEMPLATE_ENV_VAR, str(tmp_path / "other.yaml"))
    assert default_template_path() == tmp_path / "other.yaml"


def test_template_functions_trace_and_may_write_only_traces(resolver: TemplateResolver) -> None:
    # Given the template / Then every function is traced (Globals) and may write X-Ray segments
    assert resolver.template["Globals"]["Function"]["Tracing"] == "Active"
    for function_id in SETTINGS_OF_FUNCTION:
        actions = {a for s in _statements(resolver, function_id) for a in as_list(s["Action"])}
        assert actions >= XRAY_WRITE_ACTIONS
        assert not [a for a in actions if a.startswith("xray:") and a not in XRAY_WRITE_ACTIONS]


def test_template_loader_libyaml_reads_template_as_the_python_loader_does():
    # Given PyYAML's libyaml parser (the loader the commands use when PyYAML has it)
    import yaml

    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml: the Python loader is the only one")
    assert TEMPLATE_LOADER is not PythonTemplateLoader

    # When template.yaml is read by each / Then the same data, short tags and all
    assert load_template() == load_template(loader=PythonTemplateLoader)
