"""The java command line of DynamoDB Local: a short-lived JVM differs by one option only."""

from __future__ import annotations

from villages_sync_ops.local.dynamodb_local import (
    JVM_OPTIONS,
    SHORT_LIVED_JVM_OPTIONS,
    DynamoDBLocalInstall,
)


def test_short_lived_command_adds_only_the_quick_compiler_option(tmp_path):
    install = DynamoDBLocalInstall(tmp_path, "/usr/bin/java")

    default = install.command(8123)
    short_lived = install.command(8123, short_lived=True)

    assert "-XX:TieredStopAtLevel=1" not in default
    head = len(JVM_OPTIONS) + 1
    assert short_lived == [*default[:head], *SHORT_LIVED_JVM_OPTIONS, *default[head:]]
    assert short_lived[-2:] == ["-port", "8123"]
