"""Draining the local queues (sweep requests among them) through the local runtime, as
``sweep accept`` does after recording an acceptance against a local target."""

from __future__ import annotations

import argparse

from villages_sync_ops.cli.errors import CommandError, state_dir
from villages_sync_ops.cli.function_logs import FunctionLogWriter, run_logs_dir
from villages_sync_ops.cli.local_alexa import local_alexa
from villages_sync_ops.cli.run_lock import LockHeldError, sync_lock
from villages_sync_ops.cli.skill import ALEXA_FILE
from villages_sync_ops.cli.targets import local_endpoints
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions, deploy_locally
from villages_sync_ops.local.template import DEFAULT_REGION


def run_local_sweeps(args: argparse.Namespace) -> None:
    """Drain the local queues (the sweep requests among them) through the local runtime, under
    the environment's sync lock (a running sync would otherwise share its queues)."""
    home = state_dir(create=True)
    endpoints = local_endpoints(args.endpoint_url, args.dynamodb_endpoint_url)
    deployment = deploy_locally(
        endpoints.sqs,
        dynamodb_endpoint_url=endpoints.dynamodb,
        environment=args.env,
        region=args.region or DEFAULT_REGION,
    )
    try:
        with sync_lock(home, args.env):
            log = FunctionLogWriter(run_logs_dir(home))
            try:
                # A sweep's removals reach the reminders too (cli/local_alexa.py).
                state_file = home / ALEXA_FILE
                with local_alexa(deployment, function_log=log, state_file=state_file) as alexa:
                    options = SyncOptions(function_log=log, function_env=alexa.function_env({}))
                    LocalPipeline(deployment, options).drain_queues()
            finally:
                log.close()
    except LockHeldError as error:
        raise CommandError(str(error)) from None
