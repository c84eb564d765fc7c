"""CloudFormation intrinsic functions, resolved locally against parameters and known resources.

Enough of CloudFormation's semantics for ``template.py`` to read names, keys, queue settings and
environments out of template.yaml: parameters (checked as CloudFormation checks them) and
pseudo-parameters, ``Ref``/``GetAtt`` of the resource types the template uses, ``Sub`` (both
forms), ``Join``, ``Select``, ``Split``, ``FindInMap``, ``If``/``Equals``/``Not``/``And``/``Or``
and conditions. Anything else raises ``TemplateError`` naming what is unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DEFAULT_STACK_NAME = "villages-sync-local"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"

TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
FUNCTION_TYPE = "AWS::Serverless::Function"
BUCKET_TYPE = "AWS::S3::Bucket"
EVENT_BUS_TYPE = "AWS::Events::EventBus"
EVENT_RULE_TYPE = "AWS::Events::Rule"
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class TemplateError(ValueError):
    """The template uses something this reader cannot resolve, or a parameter is invalid."""


# ------------------------------------------------------------------------------- resolution

_NO_VALUE = object()  # Ref AWS::NoValue: the property is left out


class TemplateResolver:
    """Resolves intrinsic functions against parameter values and known physical resources.

    Physical names come from the resources' own name properties (``TableName``, ``QueueName``,
    ``FunctionName`` ...). Queue URLs and ARNs are the real ones once ``provision`` has created
    the queues (``known_queue_urls``/``known_queue_arns``); before that they are computed in AWS's
    format, which is enough for reading the template offline (unit tests).
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, str] | None = None,
        stack_name: str | None = None,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.parameters = resolve_parameters(template, parameters)
        self.stack_name = stack_name or DEFAULT_STACK_NAME
        self.region = region
        self.account_id = account_id
        self.known_queue_urls: dict[str, str] = {}
        self.known_queue_arns: dict[str, str] = {}
        self._conditions: dict[str, bool] = {}

    # -- pseudo-parameters and conditions

    @property
    def pseudo_parameters(self) -> dict[str, str]:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    def exists(self, logical_id: str) -> bool:
        """False when the resource's Condition is false (CloudFormation would not create it)."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def of_type(self, resource_type: str) -> list[str]:
        """Logical ids of the resources of one type that exist with these parameters."""
        return [
            logical_id
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == resource_type and self.exists(logical_id)
        ]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resources[logical_id].get("Properties", {}))

    # -- physical names, Ref and GetAtt

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: its name property, else what this stack would call it."""
        resource = self._resource(logical_id)
        name_property = {
            TABLE_TYPE: "TableName",
            QUEUE_TYPE: "QueueName",
            FUNCTION_TYPE: "FunctionName",
            BUCKET_TYPE: "BucketName",
            "AWS::Serverless::LayerVersion": "LayerName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::CloudWatch::Dashboard": "DashboardName",
            "AWS::CloudWatch::Alarm": "AlarmName",
            EVENT_BUS_TYPE: "Name",
            EVENT_RULE_TYPE: "Name",
        }.get(resource.get("Type", ""))
        explicit = resource.get("Properties", {}).get(name_property) if name_property else None
        if explicit is not None:
            return str(self.resolve(explicit))
        if resource.get("Type") == BUCKET_TYPE:
            # CloudFormation names a bucket stack-logicalid-<suffix>, in lower case (S3's rule).
            return f"{self.stack_name}-{logical_id}".lower()
        return f"{self.stack_name}-{logical_id}"

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo_parameters:
            return self.pseudo_parameters[name]
        resource_type = self._resource(name).get("Type")
        if resource_type == QUEUE_TYPE:
            return self._queue_url(name)
        if resource_type == "AWS::Serverless::LayerVersion":
            return self._arn("lambda", f"layer:{self.physical_name(name)}:1")
        if resource_type == "AWS::SNS::Topic":
            return self._arn("sns", self.physical_name(name))
        if resource_type == "AWS::KMS::Key":
            return f"{self.stack_name}-{name}"
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self._resource(logical_id).get("Type")
        name = self.physical_name(logical_id)
        if resource_type == QUEUE_TYPE:
            if attribute == "Arn":
                return self.known_queue_arns.get(logical_id) or self._arn("sqs", name)
            if attribute == "QueueName":
                return name
            if attribute == "QueueUrl":
                return self._queue_url(logical_id)
        if resource_type == TABLE_TYPE and attribute == "Arn":
            return self._arn("dynamodb", f"table/{name}")
        if resource_type == TABLE_TYPE and attribute == "StreamArn":
            # The real one ends in the stream's creation time; locally the emulator's is read
            # from DescribeTable (pipeline.py), this is only its shape.
            return self._arn("dynamodb", f"table/{name}/stream/local")
        if resource_type == EVENT_BUS_TYPE and attribute == "Arn":
            return self._arn("events", f"event-bus/{name}")
        if resource_type == FUNCTION_TYPE and attribute == "Arn":
            return self._arn("lambda", f"function:{name}")
        if resource_type == "AWS::Logs::LogGroup" and attribute == "Arn":
            return self._arn("logs", f"log-group:{name}:*")
        if resource_type == "AWS::SNS::Topic" and attribute == "TopicName":
            return name
        if resource_type == BUCKET_TYPE and attribute == "Arn":
            return f"arn:aws:s3:::{name}"
        if resource_type == EVENT_BUS_TYPE and attribute in ("Arn", "Name"):
            return self._arn("events", f"event-bus/{name}") if attribute == "Arn" else name
        if resource_type == EVENT_RULE_TYPE and attribute == "Arn":
            bus = self.resolve(self.properties(logical_id).get("EventBusName", "default"))
            path = f"rule/{name}" if bus == "default" else f"rule/{bus}/{name}"
            return self._arn("events", path)
        raise TemplateError(f"cannot resolve Fn::GetAtt {logical_id}.{attribute} locally")

    def _resource(self, logical_id: str) -> Mapping[str, Any]:
        if logical_id not in self.resources:
            raise TemplateError(f"unknown parameter or resource {logical_id!r}")
        return self.resources[logical_id]

    def _queue_url(self, logical_id: str) -> str:
        if logical_id in self.known_queue_urls:
            return self.known_queue_urls[logical_id]
        name = self.physical_name(logical_id)
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{name}"

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    # -- intrinsic functions

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function replaced by its value."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = self._FUNCTIONS.get(key)
            if function is not None:
                return function(self, argument)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the local template reader")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _fn_ref(self, argument: str) -> Any:
        return self.ref(argument)

    def _fn_get_att(self, argument: Any) -> str:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        logical_id, attribute = (self.resolve(part) for part in argument)
        return self.get_att(logical_id, attribute)

    def _fn_sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is a literal ${Literal}
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _fn_join(self, argument: list[Any]) -> str:
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in self.resolve(items))

    def _fn_select(self, argument: list[Any]) -> Any:
        index, items = self.resolve(argument)
        return items[int(index)]

    def _fn_split(self, argument: list[Any]) -> list[str]:
        delimiter, text = self.resolve(argument)
        return str(text).split(str(delimiter))

    def _fn_find_in_map(self, argument: list[Any]) -> Any:
        map_name, top, second = self.resolve(argument)
        try:
            return self.template["Mappings"][map_name][top][second]
        except KeyError as error:
            raise TemplateError(f"Fn::FindInMap {map_name}/{top}/{second} not found") from error

    def _fn_if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_equals(self, argument: list[Any]) -> bool:
        left, right = self.resolve(argument)
        return str(left) == str(right)

    def _fn_not(self, argument: list[Any]) -> bool:
        return not self.resolve(argument[0])

    def _fn_and(self, argument: list[Any]) -> bool:
        return all(self.resolve(item) for item in argument)

    def _fn_or(self, argument: list[Any]) -> bool:
        return any(self.resolve(item) for item in argument)

    def _fn_condition(self, argument: str) -> bool:
        return self.condition(argument)

    _FUNCTIONS: Mapping[str, Any] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Condition": _fn_condition,
    }


def resolve_parameters(
    template: Mapping[str, Any], values: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every parameter's value (given, else its default) as a string, checked like CloudFormation
    checks it: unknown names, missing values, AllowedValues, AllowedPattern, MinValue/MaxValue."""
    declared: Mapping[str, Any] = template.get("Parameters", {})
    given = dict(values or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(unknown)}")
    resolved: dict[str, str] = {}
    for name, spec in declared.items():
        if name in given:
            value = str(given[name])
        elif "Default" in spec:
            value = str(spec["Default"])
        else:
            raise TemplateError(f"parameter {name} has no default and no value was given")
        _check_parameter(name, value, spec)
        resolved[name] = value
    return resolved


def _check_parameter(name: str, value: str, spec: Mapping[str, Any]) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(item) for item in allowed]:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError as error:
            raise TemplateError(f"parameter {name}={value!r} is not a number") from error
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            raise TemplateError(f"parameter {name}={value!r} is outside {low}..{high}")


INTRINSIC_FUNCTIONS = frozenset(TemplateResolver._FUNCTIONS)
