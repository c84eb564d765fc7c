"""What an upstream event's ``id`` means: one rule for the scraper and the normaliser.

The calendar's ids are whole numbers, but a serialiser may send one as text (``"2000010"``,
``"002000010"``) or as a float (``2000010.0``): the same event. The scraper de-duplicates pages
and judges their count by this key, the normaliser stores items under it; were they to disagree,
one event listed in two spellings would be two events to one and one to the other.
"""

from __future__ import annotations

from villages_sync.messages import EVENT_ID_MAX_DIGITS

_ID_LIMIT: int = 10**EVENT_ID_MAX_DIGITS  # ids are below it; worked out once, not per event


def stored_id(value: object) -> str | None:
    """The id as a decimal string of at most ``EVENT_ID_MAX_DIGITS`` digits, or None.

    Never ``int()`` on a string: a 5,000-digit id would raise (Python's int/str digit limit).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 2000010.0: a serialiser's change of type, the same id
    if isinstance(value, int):
        return str(value) if 0 <= value < _ID_LIMIT else None
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdecimal():
            digits = digits.lstrip("0") or "0"
            return digits if len(digits) <= EVENT_ID_MAX_DIGITS else None
    return None


def id_key(value: object) -> int | None:
    """The same id as a number (compact in ``CompactIds``), or None when it is not usable."""
    if type(value) is int:  # the usual case, without building a string
        return value if 0 <= value < _ID_LIMIT else None
    stored = stored_id(value)
    return None if stored is None else int(stored)


def too_long(value: object) -> bool:
    """A whole number with more digits than any id we store: no stored item can be its."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= _ID_LIMIT
    if isinstance(value, str):
        digits = value.strip()
        return (
            digits.isascii()
            and digits.isdecimal()
            and len(digits.lstrip("0")) > EVENT_ID_MAX_DIGITS
        )
    return False
