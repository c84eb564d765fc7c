"""The settings a local run gives each function, SAM's way, checked before anything runs.

Where a variable's value comes from, lowest first:

1. the template (its parameters: defaults, ``--parameter-overrides``, the ``sync`` shorthands);
2. a shell variable that names a function setting (``DAYS_AHEAD=5 villages-sync sync``);
3. ``--env-vars FILE.json``: its ``Parameters`` object (every function that has the variable),
   then the object named after the function's logical id (SAM's format).

A variable is given to a function only if the template declares it for that function or the
function's settings read it; one that no function reads is an error, never silently dropped.
Which variables a settings class reads is found by asking it (``setting_names``), so a new
setting needs no change here.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from villages_sync.settings import (
    ChangesSettings,
    ConsumerSettings,
    ProducerSettings,
    SettingsError,
    SweepSettings,
)

from villages_sync_ops.local.intrinsics import TemplateResolver
from villages_sync_ops.local.template import FunctionSpec, read_functions

# The settings class each locally-run function parses its environment with.
FUNCTION_SETTINGS: dict[str, Any] = {
    "ProducerFunction": ProducerSettings,
    "ConsumerFunction": ConsumerSettings,
    "SweepFunction": SweepSettings,
    "ChangesFunction": ChangesSettings,
}
# Powertools' own switches that a local run may want to flip (tracing is off by default there).
POWERTOOLS_SETTINGS = ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_LOGGER_LOG_EVENT")
_SAM_LONG_FORM = re.compile(r"^ParameterKey=([^,]+),ParameterValue=(.*)$")


class SettingsProblem(ValueError):
    """A setting or its source is wrong; the message names it (exit code 2)."""


@dataclass(frozen=True, slots=True)
class EnvVarsFile:
    """SAM's ``--env-vars`` file: ``{"Parameters": {...}, "FunctionLogicalId": {...}}``."""

    all_functions: dict[str, str] = field(default_factory=dict)
    per_function: dict[str, dict[str, str]] = field(default_factory=dict)


class _RecordingEnv(Mapping[str, str]):
    """A mapping that remembers every name read from it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self._values[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def setting_names(settings_class: Any, environment: Mapping[str, str]) -> set[str]:
    """Every variable ``settings_class.from_env`` reads (given a valid ``environment``)."""
    recording = _RecordingEnv(environment)
    # Names read before an error still count (the template's own environment is valid anyway).
    with contextlib.suppress(SettingsError):
        settings_class.from_env(recording)
    return recording.read


def parse_parameter_overrides(values: Sequence[str]) -> dict[str, str]:
    """SAM's ``--parameter-overrides``: ``Key=Value`` or ``ParameterKey=K,ParameterValue=V``,
    given as separate arguments or space-separated in one."""
    parsed: dict[str, str] = {}
    for value in values:
        for token in value.split():
            long_form = _SAM_LONG_FORM.match(token)
            if long_form:
                key, val = long_form[1], long_form[2]
            else:
                key, sep, val = token.partition("=")
                if not sep or not key:
                    raise SettingsProblem(
                        f"--parameter-overrides {token!r} is not Key=Value "
                        "(or ParameterKey=Key,ParameterValue=Value)"
                    )
            parsed[key] = val
    return parsed


def load_env_vars_file(path: Path, function_ids: Sequence[str]) -> EnvVarsFile:
    """Read and check SAM's env-vars file: an object of objects of scalars."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsProblem(f"--env-vars {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise SettingsProblem(f"--env-vars {path} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise SettingsProblem(f"--env-vars {path}: expected a JSON object")
    result = EnvVarsFile()
    for key, variables in document.items():
        if key != "Parameters" and key not in function_ids:
            raise SettingsProblem(
                f"--env-vars {path}: {key!r} is neither Parameters nor a function "
                f"({', '.join(sorted(function_ids))})"
            )
        if not isinstance(variables, dict):
            raise SettingsProblem(f"--env-vars {path}: {key} must be an object of variables")
        checked = {}
        for name, value in variables.items():
            if isinstance(value, dict | list) or value is None:
                raise SettingsProblem(f"--env-vars {path}: {key}.{name} must be a string or number")
            checked[name] = str(value).lower() if isinstance(value, bool) else str(value)
        if key == "Parameters":
            result.all_functions.update(checked)
        else:
            result.per_function[key] = checked
    return result


def offline_functions(
    template: Mapping[str, Any], parameters: Mapping[str, str], region: str
) -> dict[str, FunctionSpec]:
    """The template's functions and their environments, resolved without touching AWS (queue
    URLs in AWS's format): enough to check every setting before anything is created."""
    resolver = TemplateResolver(template, parameters=parameters, region=region)
    return read_functions(resolver)


def known_settings(functions: Mapping[str, FunctionSpec]) -> dict[str, set[str]]:
    """Per locally-run function: the variables it may be given (template's and its settings')."""
    names: dict[str, set[str]] = {}
    for logical_id, settings_class in FUNCTION_SETTINGS.items():
        spec = functions.get(logical_id)
        if spec is not None:
            names[logical_id] = (
                set(spec.environment)
                | setting_names(settings_class, spec.environment)
                | set(POWERTOOLS_SETTINGS)
            )
    return names


def shell_settings(environ: Mapping[str, str], known: Mapping[str, set[str]]) -> dict[str, str]:
    """Shell variables that name a setting of some function."""
    every = set().union(*known.values()) if known else set()
    return {name: environ[name] for name in sorted(every) if name in environ}


def function_overrides(
    known: Mapping[str, set[str]],
    *,
    shell: Mapping[str, str],
    env_vars: EnvVarsFile,
) -> dict[str, dict[str, str]]:
    """What each function's template environment is overridden with (see the module doc)."""
    for name in env_vars.all_functions:
        if not any(name in names for names in known.values()):
            raise SettingsProblem(f"--env-vars Parameters.{name} is not a setting of any function")
    overrides: dict[str, dict[str, str]] = {}
    for logical_id, names in known.items():
        chosen = {k: v for k, v in shell.items() if k in names}
        chosen.update({k: v for k, v in env_vars.all_functions.items() if k in names})
        for name, value in env_vars.per_function.get(logical_id, {}).items():
            if name not in names:
                raise SettingsProblem(
                    f"--env-vars {logical_id}.{name} is not a setting of {logical_id}"
                )
            chosen[name] = value
        overrides[logical_id] = chosen
    return overrides


def check_settings(
    functions: Mapping[str, FunctionSpec], overrides: Mapping[str, Mapping[str, str]]
) -> None:
    """Parse every function's settings as it would at start-up; SettingsProblem on the first bad
    one, naming the function, the variable and what it must be."""
    for logical_id, settings_class in FUNCTION_SETTINGS.items():
        spec = functions.get(logical_id)
        if spec is None:
            continue
        env = {**spec.environment, **overrides.get(logical_id, {})}
        try:
            settings_class.from_env(env)
        except SettingsError as error:
            raise SettingsProblem(f"{logical_id}: {error}") from None


def describe_overrides(overrides: Mapping[str, Mapping[str, str]]) -> list[str]:
    """``MAX_ATTEMPTS=3 (ProducerFunction)`` per overridden variable, for the progress output."""
    by_setting: dict[tuple[str, str], list[str]] = {}
    for logical_id, values in overrides.items():
        for name, value in values.items():
            by_setting.setdefault((name, value), []).append(logical_id.removesuffix("Function"))
    return [f"{n}={v} ({', '.join(fns)})" for (n, v), fns in sorted(by_setting.items())]
