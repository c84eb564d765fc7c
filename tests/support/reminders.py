"""Helpers of the reminders' tests: the Alexa stand-in wired to the skill's handler (as Alexa
delivers a Skill Messaging message), the LWA client in the emulator's SSM, and change-feed
events shaped as CONTRACT.md says (docs/architecture.md, "change feed").

Imported as ``support.reminders``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import boto3
from villages_sync.aws.items import to_attributes
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.skill.envelopes import LOCAL_SKILL_ID, spoken_request
from villages_sync_ops.standin.alexa import (
    LOCAL_CLIENT_ID,
    LOCAL_CLIENT_SECRET,
    RunningAlexa,
    StandInAlexa,
)

from support.skill import SKILL, TZ, stored

REMINDERS = "RemindersFunction"
USER = "amzn1.ask.account.RESIDENT"
CLIENT_PARAMETER = "/villages-sync/alexa-client"  # the template's default name


@dataclass
class AlexaSide:
    """A local deployment with the Alexa stand-in: the skill answers it, the RemindersFunction
    calls it."""

    deployment: Any
    alexa: StandInAlexa
    log: io.StringIO

    def pipeline(self, **function_env: str) -> LocalPipeline:
        alexa_env = {
            "ALEXA_API_ENDPOINT": self.alexa.base_url,
            "LWA_TOKEN_URL": f"{self.alexa.base_url}/auth/o2/token",
        }
        options = SyncOptions(
            function_log=self.log,
            extra_env={"DAYS_AHEAD": "366"},
            function_env={REMINDERS: {**alexa_env, **function_env}},
        )
        return LocalPipeline(self.deployment, options)

    def ask(
        self,
        intent: str,
        *,
        now: datetime,
        attributes: dict | None = None,
        granted: bool,
        **spoken: str,
    ) -> dict[str, Any]:
        """One turn of the resident, in session, as Alexa sends it (with its API token)."""
        envelope = spoken_request(
            intent, now=now, spoken=spoken, attributes=attributes, alexa=self.session(granted)
        )
        return self.send(envelope)

    def session(self, granted: bool) -> dict[str, Any]:
        return {
            "api_endpoint": self.alexa.base_url,
            "api_access_token": self.alexa.api_token(USER),
            "user_id": USER,
            "reminders_granted": granted,
        }

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        invocation = self.pipeline().invoke_function(SKILL, envelope)
        assert invocation.succeeded, invocation.error_text
        return invocation.payload

    def deliver(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """What Alexa does with an accepted message: the skill's handler, which must succeed."""
        invocation = self.pipeline().invoke_function(SKILL, envelope)
        if not invocation.succeeded:
            raise RuntimeError(invocation.error_text)
        return invocation.payload

    def put_change(self, entry: dict[str, Any]) -> None:
        events = boto3.client(
            "events", endpoint_url=self.deployment.endpoint_url, region_name=self.deployment.region
        )
        answer = events.put_events(Entries=[entry])
        assert answer["FailedEntryCount"] == 0, answer

    def follow_changes(self, **function_env: str) -> Any:
        """The RemindersFunction's SQS mapping drained (as Lambda polls the queue), then every
        message Alexa accepted delivered."""
        pipeline = self.pipeline(**function_env)
        spec = next(
            m
            for m in self.deployment.resources.event_source_mappings
            if m.function_logical_id == REMINDERS
        )
        report = pipeline.event_source_mapping(spec).drain(deadline_seconds=120)
        self.alexa.settle()
        return report

    def queue_depth(self, logical_id: str) -> int:
        sqs = self.deployment.clients.sqs
        url = self.deployment.resources.queue_urls[logical_id]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def reminder_items(self) -> list[dict[str, Any]]:
        from villages_sync.aws.items import from_attributes

        table = self.deployment.resources.tables["RemindersTable"]
        return [
            from_attributes(i)
            for i in self.deployment.clients.dynamodb.scan(TableName=table)["Items"]
        ]


@contextlib.contextmanager
def alexa_side(deployment: Any, *, client_secret: str = LOCAL_CLIENT_SECRET) -> Iterator[AlexaSide]:
    """The stand-in running, the skill's LWA client in SSM (a SecureString, as deployed)."""
    ssm = boto3.client("ssm", endpoint_url=deployment.endpoint_url, region_name=deployment.region)
    value = json.dumps({"client_id": LOCAL_CLIENT_ID, "client_secret": client_secret})
    ssm.put_parameter(Name=CLIENT_PARAMETER, Value=value, Type="SecureString", Overwrite=True)
    side: AlexaSide | None = None

    def deliver(envelope: dict[str, Any]) -> dict[str, Any]:
        assert side is not None
        return side.deliver(envelope)

    with RunningAlexa(skill_id=LOCAL_SKILL_ID, deliver=deliver) as alexa:
        side = AlexaSide(deployment, alexa, io.StringIO())
        yield side


def store_events(deployment: Any, raws: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Raw calendar events as the sync stores them, written to the events table."""
    items = [stored(raw, today) for raw in raws]
    table = deployment.resources.tables["EventsTable"]
    for item in items:
        deployment.clients.dynamodb.put_item(TableName=table, Item=to_attributes(item))
    return items


def listener_view(item: dict[str, Any], **changed: Any) -> dict[str, Any]:
    """CONTRACT.md's listener view of an events-table item."""
    view = {
        "title": item["title"],
        "event_date": item["event_date"],
        "start_time": item["start_time"],
        "end_time": item.get("end_time"),
        "all_day": bool(item.get("all_day")),
        "location": item["location"],
        "category": item.get("category", ""),
        "cancelled": bool(item.get("cancelled")),
        "start_iso": item.get("start_iso", ""),
    }
    view.update(changed)
    return view


def change_entry(
    kind: str, item: dict[str, Any], *, after: dict[str, Any] | None, bus: str
) -> dict[str, Any]:
    """A PutEvents entry as the change feed puts it (CONTRACT.md); the change id is the hash of
    the event id and both views, so the same change is the same id."""
    before = listener_view(item)
    changed = sorted(k for k in before if after is not None and before[k] != after.get(k))
    digest = hashlib.sha256(
        json.dumps([item["event_id"], before, after], sort_keys=True).encode()
    ).hexdigest()
    detail = {
        "change_id": digest,
        "event_id": str(item["event_id"]),
        "run_id": None,
        "changed": changed,
        "before": before,
        "after": after,
    }
    return {
        "Source": "villages-sync.events",
        "DetailType": kind,
        "Detail": json.dumps(detail),
        "EventBusName": bus,
    }


def moved_to(item: dict[str, Any], start: datetime) -> dict[str, Any]:
    local = start.astimezone(TZ)
    return listener_view(
        item,
        event_date=local.date().isoformat(),
        start_time=local.strftime("%H:%M"),
        end_time=(local + timedelta(hours=2)).strftime("%H:%M"),
        start_iso=local.isoformat(),
    )
