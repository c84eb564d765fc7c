"""Lambda's event filtering (``FilterCriteria``), for the local stream mapping.

A record is handed to the function when it matches any of the patterns; the rest are dropped
(and, for a stream, passed over). A pattern is EventBridge's syntax, the parts Lambda documents
for event source mappings: nested maps, a list of accepted values (an exact value, ``exists``,
``anything-but``, ``prefix``), and ``exists: false`` matching a field that is absent, however
deep. Anything else in a pattern is refused rather than guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

_ABSENT = object()


class FilterPatternError(ValueError):
    """A pattern the local filter does not implement (Lambda might accept it)."""


def parse_filter_criteria(criteria: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns of a ``FilterCriteria`` property (each ``Pattern`` a JSON string)."""
    if not criteria:
        return []
    patterns = []
    for entry in criteria.get("Filters", []):
        pattern = json.loads(entry["Pattern"])
        if not isinstance(pattern, dict):
            raise FilterPatternError(f"a pattern is a JSON object, not {pattern!r}")
        patterns.append(pattern)
    return patterns


def matches_any(record: Mapping[str, Any], patterns: Sequence[Mapping[str, Any]]) -> bool:
    """No patterns: everything passes (no FilterCriteria)."""
    return not patterns or any(_matches(record, pattern) for pattern in patterns)


def _matches(value: Any, pattern: Mapping[str, Any]) -> bool:
    for key, wanted in pattern.items():
        field = value.get(key, _ABSENT) if isinstance(value, Mapping) else _ABSENT
        if isinstance(wanted, Mapping):
            if not _matches(field if isinstance(field, Mapping) else {}, wanted):
                return False
        elif isinstance(wanted, list):
            if not any(_leaf_matches(field, rule) for rule in wanted):
                return False
        else:
            raise FilterPatternError(f"{key}: a pattern's leaf is a list, not {wanted!r}")
    return True


def _leaf_matches(field: Any, rule: Any) -> bool:
    if not isinstance(rule, Mapping):
        return field is not _ABSENT and (
            field == rule or (isinstance(field, list) and rule in field)
        )
    if set(rule) == {"exists"}:
        return (field is not _ABSENT) is bool(rule["exists"])
    if field is _ABSENT:
        return False
    if set(rule) == {"anything-but"}:
        excluded = rule["anything-but"]
        excluded = excluded if isinstance(excluded, list) else [excluded]
        return field not in excluded
    if set(rule) == {"prefix"}:
        return isinstance(field, str) and field.startswith(rule["prefix"])
    raise FilterPatternError(f"filter rule not implemented locally: {dict(rule)!r}")
