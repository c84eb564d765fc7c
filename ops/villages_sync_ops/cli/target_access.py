"""Reaching a target from a command: resolve it from the command line, and turn AWS errors into
one clear line. Shared by every command module (commands, monitor, demo, skill, sweep accept),
so it sits below all of them."""

from __future__ import annotations

import argparse
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from villages_sync_ops.cli.errors import CommandError, state_dir
from villages_sync_ops.cli.targets import Target, TargetError, resolve_target


def open_target(args: argparse.Namespace, *, create: bool = True) -> Target:
    """The target the command line names (--endpoint-url/--stack/--env/--region)."""
    if not create:
        state_dir(create=False)
    try:
        return guarded(
            lambda: resolve_target(
                endpoint_url=args.endpoint_url,
                dynamodb_endpoint_url=args.dynamodb_endpoint_url,
                stack=args.stack,
                environment=args.env,
                region=args.region,
                create=create,
            )
        )
    except TargetError as error:
        raise CommandError(str(error)) from error


def guarded(call: Any) -> Any:
    """AWS errors become one clear line instead of a traceback."""
    try:
        return call()
    except (ClientError, BotoCoreError) as error:
        raise CommandError(str(error)) from error
    except RuntimeError as error:
        if isinstance(error, CommandError | TargetError):
            raise
        raise CommandError(str(error)) from error  # e.g. the emulator did not start


def impatient_sqs(sqs: Any) -> Any:
    """The same endpoint with two attempts per call: an emulator's "not implemented" answer to
    StartMessageMoveTask should fall back at once, not after the adaptive mode's back-off."""
    return boto3.client(
        "sqs",
        endpoint_url=sqs.meta.endpoint_url,
        region_name=sqs.meta.region_name,
        config=Config(retries={"total_max_attempts": 2, "mode": "standard"}),
    )
