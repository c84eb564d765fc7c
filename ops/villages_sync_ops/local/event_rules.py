"""The template's EventBridge buses and rules, created in the emulator (moto delivers PutEvents
to a rule's SQS targets, as EventBridge does), so a change put on ChangesBus reaches the
reminders queue locally the way it does in AWS.

Only what the template uses is read: a bus's name; a rule's bus, pattern, state and SQS
targets (by ``!GetAtt Queue.Arn``). Anything else in a rule raises ``TemplateError``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from villages_sync_ops.local.intrinsics import (
    EVENT_BUS_TYPE,
    EVENT_RULE_TYPE,
    TemplateError,
    TemplateResolver,
)

_RULE_PROPERTIES = {"Name", "Description", "EventBusName", "EventPattern", "State", "Targets"}


@dataclass(frozen=True, slots=True)
class EventRuleSpec:
    logical_id: str
    rule_name: str
    bus_name: str
    pattern: dict[str, Any]
    enabled: bool
    queue_targets: dict[str, str]  # target id -> queue logical id


def read_event_buses(resolver: TemplateResolver) -> dict[str, str]:
    """Logical id -> bus name."""
    return {
        logical_id: resolver.physical_name(logical_id)
        for logical_id in resolver.of_type(EVENT_BUS_TYPE)
    }


def read_event_rules(resolver: TemplateResolver) -> dict[str, EventRuleSpec]:
    rules: dict[str, EventRuleSpec] = {}
    for logical_id in resolver.of_type(EVENT_RULE_TYPE):
        raw = resolver.properties(logical_id)
        unknown = set(raw) - _RULE_PROPERTIES
        if unknown:
            raise TemplateError(
                f"{logical_id}: rule properties not read locally: {sorted(unknown)}"
            )
        targets: dict[str, str] = {}
        for target in raw.get("Targets", []):
            arn = target.get("Arn")
            if not (isinstance(arn, Mapping) and "Fn::GetAtt" in arn):
                raise TemplateError(f"{logical_id}: only !GetAtt <Queue>.Arn targets are read")
            queue_id, attribute = arn["Fn::GetAtt"]
            if attribute != "Arn":
                raise TemplateError(f"{logical_id}: target {queue_id}.{attribute}")
            targets[str(resolver.resolve(target["Id"]))] = str(queue_id)
        rules[logical_id] = EventRuleSpec(
            logical_id=logical_id,
            rule_name=resolver.physical_name(logical_id),
            bus_name=str(resolver.resolve(raw.get("EventBusName", "default"))),
            pattern=resolver.resolve(raw["EventPattern"]),
            enabled=str(resolver.resolve(raw.get("State", "ENABLED"))) == "ENABLED",
            queue_targets=targets,
        )
    return rules


def provision_event_rules(
    events: Any,
    buses: Mapping[str, str],
    rules: Mapping[str, EventRuleSpec],
    queue_arns: Mapping[str, str],
) -> None:
    """Create the buses and put the rules and their targets (idempotent: a bus that exists is
    kept; a rule and its targets are put again, converging to the template)."""
    for bus_name in buses.values():
        try:
            events.create_event_bus(Name=bus_name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
    for rule in rules.values():
        events.put_rule(
            Name=rule.rule_name,
            EventBusName=rule.bus_name,
            EventPattern=json.dumps(rule.pattern),
            State="ENABLED" if rule.enabled else "DISABLED",
        )
        events.put_targets(
            Rule=rule.rule_name,
            EventBusName=rule.bus_name,
            Targets=[
                {"Id": target_id, "Arn": queue_arns[queue_id]}
                for target_id, queue_id in rule.queue_targets.items()
            ],
        )
