"""The stand-in Alexa for a local sync, so RemindersFunction follows the change feed locally.

A local sync's second drain round runs RemindersFunction (the change feed's Moved, Cancelled
and Removed changes, through the bus's rule and RemindersQueue). Deployed, it reads the LWA
client from SSM and calls Alexa; locally there is no Alexa, so each sync, sweep acceptance
and the demo run it against the stand-in (standin/alexa.py) instead:

- the stand-in runs on 127.0.0.1 for the command's duration, holding what `skill ask` set
  (the state directory's ``alexa-stand-in.json``; saved again after, so `villages-sync
  reminders` shows a moved reminder);
- the stand-in's LWA client goes in the emulator's SSM, under the parameter the template
  names, as a SecureString (as deployed);
- RemindersFunction is given ``ALEXA_API_ENDPOINT`` and ``LWA_TOKEN_URL`` of the stand-in
  (``SyncOptions.function_env``), nothing else changes;
- the stand-in delivers each accepted message (``Messaging.MessageReceived``) to the local
  SkillFunction handler, as Alexa does. Deliveries wait until the command's own work is done:
  the local runtime runs one handler at a time in this process, and a delivery beside a
  running handler would share its redirected output.

A deployed stack is never touched: `sync` is local only, and nothing here reads a stack.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import boto3

from villages_sync_ops.local.pipeline import LocalDeployment, LocalPipeline, SyncOptions
from villages_sync_ops.skill.envelopes import LOCAL_SKILL_ID
from villages_sync_ops.standin.alexa import (
    LOCAL_CLIENT_ID,
    LOCAL_CLIENT_SECRET,
    RunningAlexa,
    StandInAlexa,
)

REMINDERS_FUNCTION = "RemindersFunction"
SKILL_FUNCTION = "SkillFunction"
CLIENT_PARAMETER_VARIABLE = "ALEXA_CLIENT_PARAMETER"  # RemindersFunction's, from the template
SETTLE_SECONDS = 120.0  # every accepted message delivered (each a local handler call) by then


class _Cancelled(Exception):
    """The command stopped before its messages were delivered."""


@dataclass
class LocalAlexa:
    """The running stand-in and what a local run needs to use it."""

    alexa: StandInAlexa
    undelivered: int = 0  # messages the skill's handler failed every time (after the command)

    def function_env(self, overrides: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
        """``overrides`` (the operator's per-function settings) with RemindersFunction pointed
        at the stand-in; an operator's own ALEXA_API_ENDPOINT / LWA_TOKEN_URL win."""
        merged = {name: dict(values) for name, values in overrides.items()}
        stand_in = {
            "ALEXA_API_ENDPOINT": self.alexa.base_url,
            "LWA_TOKEN_URL": f"{self.alexa.base_url}/auth/o2/token",
        }
        merged[REMINDERS_FUNCTION] = {**stand_in, **merged.get(REMINDERS_FUNCTION, {})}
        return merged


@contextlib.contextmanager
def local_alexa(
    deployment: LocalDeployment, *, function_log: TextIO | None, state_file: Path | None
) -> Iterator[LocalAlexa]:
    """The stand-in for one local command (``state_file``: what it holds between commands;
    None: nothing kept, as the demo's throwaway emulator). On leaving, the accepted messages
    are delivered to the skill's handler, then the state saved and the stand-in stopped."""
    put_lwa_client(deployment)
    may_deliver = threading.Event()
    cancelled = threading.Event()
    skill = LocalPipeline(
        deployment,
        SyncOptions(
            function_log=function_log,
            function_env={SKILL_FUNCTION: {"SKILL_ID": LOCAL_SKILL_ID}},
        ),
    )

    def deliver(envelope: dict[str, Any]) -> dict[str, Any]:
        may_deliver.wait()
        if cancelled.is_set():
            raise _Cancelled("the command stopped before this message was delivered")
        invocation = skill.invoke_function(SKILL_FUNCTION, envelope)
        if not invocation.succeeded:
            raise RuntimeError(invocation.error_text)  # the stand-in delivers it again
        return invocation.payload

    with RunningAlexa(skill_id=LOCAL_SKILL_ID, deliver=deliver) as alexa:
        if state_file is not None:
            alexa.load(state_file)
        local = LocalAlexa(alexa)
        try:
            yield local
            may_deliver.set()
            alexa.settle(SETTLE_SECONDS)
            local.undelivered = sum(1 for d in alexa.deliveries if not d.delivered)
        finally:
            cancelled.set()  # stopped early (an exception): no delivery begins any more
            may_deliver.set()
            if state_file is not None:
                alexa.save(state_file)


def put_lwa_client(deployment: LocalDeployment) -> None:
    """The stand-in's LWA client in the emulator's SSM, where RemindersFunction reads it."""
    spec = deployment.resources.functions[REMINDERS_FUNCTION]
    name = spec.environment[CLIENT_PARAMETER_VARIABLE]
    ssm = boto3.session.Session(region_name=deployment.region).client(
        "ssm", endpoint_url=deployment.endpoint_url
    )
    value = json.dumps({"client_id": LOCAL_CLIENT_ID, "client_secret": LOCAL_CLIENT_SECRET})
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
