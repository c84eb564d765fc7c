"""Helpers for reading template.yaml in tests (the parsed template is the `template` fixture)."""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any]:
    """A CloudFormation value that may be one item or a list of them, as a list."""
    return value if isinstance(value, list) else [value]
