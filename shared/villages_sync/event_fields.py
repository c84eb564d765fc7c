"""One field of an upstream event, cleaned for the stored item: flags, short texts, nested
parts, subcategories, the URL and the address. Pure (split from normalise)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from villages_sync.models import SUBCATEGORIES_MAX, SUBCATEGORY_MAX_CHARS, URL_MAX_CHARS
from villages_sync.text import clean_text

SHORT_TEXT_MAX_CHARS = 200
_URL_FORBIDDEN = re.compile(r'[ <>"]')  # and every unprintable character (str.isprintable)


_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def flag_of(value: object) -> bool | None:
    """A JSON boolean, or the strings and numbers an API might send for one; None otherwise.

    Missing (None) is False: an event is not cancelled unless it says so.
    """
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def snippet(value: object) -> str:
    """A short, safe description of a value for a reject's detail (no huge reprs)."""
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, int) and not isinstance(value, bool):
        return "a number" if abs(value) >= 10**40 else repr(value)
    return (
        repr(value)[:40]
        if isinstance(value, float | bool) or value is None
        else (f"a {type(value).__name__}")
    )


def lower_clean(value: object, max_chars: int) -> str:
    """Lower-cased before cleaning: lower-casing can lengthen text ("İ" becomes two
    characters), so cleaning (and its length cap) comes last."""
    return clean_text(value.lower() if isinstance(value, str) else value, max_chars)


def part_of(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if type(value) is dict or isinstance(value, Mapping) else {}  # dict: no ABC check


def subcategories_of(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    kept = []
    for raw_value in value[:SUBCATEGORIES_MAX]:
        cleaned = lower_clean(raw_value, SUBCATEGORY_MAX_CHARS)
        if cleaned:
            kept.append(cleaned)
    return kept


def clean_url(value: object) -> str:
    """A usable http(s) URL as given, or "". Not cleaned like prose: entity decoding would turn
    a query such as ``?a=1&copy=2`` into ``?a=1©=2``."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    usable = (
        url.startswith(("https://", "http://"))
        and len(url) <= URL_MAX_CHARS
        and url.isprintable()  # no control characters, no whitespace but " " ...
        and not _URL_FORBIDDEN.search(url)  # ... and not " " either, nor markup characters
    )
    return url if usable else ""


def address_of(parts: Mapping[str, Any]) -> str:
    street = clean_text(parts.get("streetAddress"), 100)
    locality = clean_text(parts.get("locality"), 100)
    region = joined(
        " ", clean_text(parts.get("region"), 20), clean_text(parts.get("postalCode"), 20)
    )
    return joined(", ", street, locality, region)


def joined(separator: str, *parts: str) -> str:
    """The non-empty ``parts`` joined (a list, not a generator: join makes one anyway)."""
    return separator.join([part for part in parts if part])


def add_optional(item: dict[str, Any], key: str, value: str) -> None:
    if value:
        item[key] = value
