"""RemindersFunction: the change feed's Event Moved / Cancelled / Removed (the EventBridge rule
on ChangesBus puts each on the reminders queue), followed to every reminder of the event.

Thin: the record's body is the EventBridge event; ``villages_sync.reminders.follow`` does the
work with the reminders table and Skill Messaging (a Login with Amazon client-credentials
token; the client id and secret from the SSM SecureString ``ALEXA_CLIENT_PARAMETER`` names,
read only when a token is fetched: the first change with a reminder to follow, or after a
401; a rotated secret is so picked up without a new container).
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from villages_sync.alexa.apis import ClientCredentials, LwaTokens, SkillMessaging
from villages_sync.alexa.http import UrllibHttp
from villages_sync.aws.clients import aws_clients
from villages_sync.aws.reminders_table import RemindersTable
from villages_sync.reminders.change_notice import read_change
from villages_sync.reminders.follow import follow_change
from villages_sync.reminders.settings import RemindersSettings
from villages_sync.sqs_batch import SQSRecord, process_partial_response

if TYPE_CHECKING:  # a type only: Lambda passes its own context object
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="villages-sync-reminders")
metrics = Metrics()


def client_credentials(parameter: str) -> ClientCredentials:
    """The skill's LWA client id and secret, from SSM (decrypted), when a token is fetched."""
    ssm = boto3.client("ssm")
    value = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    return ClientCredentials.from_json(json.loads(value))


@lru_cache(maxsize=4)
def messenger(settings: RemindersSettings) -> SkillMessaging:
    """Skill Messaging with one LWA token, kept across invocations until a 401 refreshes it."""
    http = UrllibHttp()
    tokens = LwaTokens(
        http,
        settings.lwa_token_url,
        partial(client_credentials, settings.client_parameter),
        sleep=time.sleep,
    )
    return SkillMessaging(http, settings.alexa_api_endpoint, tokens, sleep=time.sleep)


def record_handler(record: SQSRecord, settings: RemindersSettings) -> dict[str, Any]:
    change = read_change(json.loads(record.body))
    logger.append_keys(change_id=change.change_id, event_id=change.event_id)
    report = follow_change(
        change,
        reminders=RemindersTable(
            aws_clients().dynamodb, settings.reminders_table_name, settings.timezone
        ),
        messenger=partial(messenger, settings),
        tz=settings.timezone,
        now=datetime.now(settings.timezone),
    )
    logger.info("change followed", extra={"kind": str(change.kind), "follow": report.as_dict()})
    metrics.add_metric(name="RemindersFollowed", unit=MetricUnit.Count, value=report.messaged)
    if report.revoked:
        metrics.add_metric(name="RemindersRevoked", unit=MetricUnit.Count, value=report.revoked)
    return report.as_dict()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = RemindersSettings.from_env(os.environ)
    logger.setLevel(settings.log_level)
    copy_config_to_registered_loggers(source_logger=logger, include={"villages_sync"})
    return process_partial_response(event, partial(record_handler, settings=settings))
