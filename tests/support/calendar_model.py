"""A plain in-memory model of the calendar for issue 9's proof, and its rendering as API events.

Each ``ModelEvent`` knows what it *is* (its day, time, title, whether it is cancelled) apart
from how the calendar *writes* it (an id as a number, a string, 21 digits or 5,000; booleans as
JSON booleans or their spellings; a start the normaliser cannot read; an object where a scalar
belongs). The model decides, without the product's code, which events are valid and what the
table should say about them: the oracle the state machine and the regression tests check against.

Imported as ``support.calendar_model`` (tests/ is on sys.path through its rootdir conftest).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from villages_sync.settings import DEFAULT_TIMEZONE

TZ = ZoneInfo(DEFAULT_TIMEZONE)
FIRST_KEY = 2_000_000

# How an id is written. Usable: the product can store the event under it.
USABLE_ID_STYLES = ("int", "str")
ODD_ID_STYLES = ("digits21", "digits5000", "bool", "object")
ID_STYLES = USABLE_ID_STYLES + ODD_ID_STYLES

# How a boolean is written: JSON booleans and the spellings an API might send ("true", "TRUE",
# 1, "yes") are all accepted (issue 9, "Booleans"); anything else ("maybe", an object) makes the
# event a reject with a reason.
ACCEPTED_FLAG_STYLES = ("json", "lower", "upper", "number", "yes_no")
BAD_FLAG_STYLES = ("word", "object")
FLAG_STYLES = ACCEPTED_FLAG_STYLES + BAD_FLAG_STYLES

# Shapes of the start: readable, or one the normaliser must reject (issue 9, case 1).
START_STYLES = ("iso", "slashes", "object")

# A start no calendar means (issue 18, case 1): a null date serialised as the epoch, or a
# garbled year decades away. Readable, so only a plausibility check rejects it.
IMPLAUSIBLE_DATES = ("epoch", "far_future")
FAR_FUTURE_YEARS = 28  # whole leap cycles: every date has its twin that many years on

LENGTHENING = "\u0130"  # "İ": lower-cases to two code points


@dataclass(frozen=True, repr=False)
class ModelEvent:
    key: int  # the event's number: its id when written usably
    day: int  # days after today (local); negative: moved into the past
    minute: int = 17 * 60  # local start, minutes after midnight (timed events)
    duration_minutes: int = 120
    span_days: int = 0  # > 0: a multi-day event ending this many days after its start day
    all_day: bool = False
    cancelled: bool = False
    version: int = 0  # bumped by every content edit: the title says which version is current
    id_style: str = "int"
    all_day_style: str = "json"
    cancelled_style: str = "json"
    start_style: str = "iso"
    nested_title: bool = False
    lengthening_subcategory: bool = False
    implausible_date: str = ""  # one of IMPLAUSIBLE_DATES: how the start is written instead

    def __repr__(self) -> str:
        """Only the fields that differ from a plain event: shrunk counter-examples stay short."""
        plain = ModelEvent(key=self.key, day=self.day)
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name in self.__dataclass_fields__
            if name in ("key", "day") or getattr(self, name) != getattr(plain, name)
        ]
        return f"ModelEvent({', '.join(changed)})"

    @property
    def event_id(self) -> str | None:
        """The id the product stores the event under, or None when the id is not usable."""
        return str(self.key) if self.id_style in USABLE_ID_STYLES else None

    @property
    def title(self) -> str:
        return f"Event {self.key} v{self.version}"

    @property
    def valid(self) -> bool:
        """Storable: a usable id, a readable start, a title, booleans the API may send."""
        return (
            self.event_id is not None
            and self.start_style == "iso"
            and not self.nested_title
            and not self.implausible_date
            and self.all_day_style in ACCEPTED_FLAG_STYLES
            and self.cancelled_style in ACCEPTED_FLAG_STYLES
        )

    def local_date(self, today: date) -> date:
        return today + timedelta(days=self.day)

    def last_date(self, today: date) -> date:
        return today + timedelta(days=self.day + self.span_days)

    def days_in_progress(self, today: date) -> list[date]:
        return [self.local_date(today) + timedelta(days=n) for n in range(self.span_days + 1)]

    def edited(self, **changes: object) -> ModelEvent:
        """A content edit: the new version has a new title, so a stale copy shows."""
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]

    # --- as the calendar API writes it ---------------------------------------------------

    def raw(self, today: date) -> dict:
        first, last = self.local_date(today), self.last_date(today)
        if self.all_day:
            # A floating midnight: the date part as written is the local date.
            start_text = f"{first.isoformat()}T00:00:00.000Z"
            end_text = f"{last.isoformat()}T00:00:00.000Z"
            kind = "date"
        else:
            start = datetime.combine(first, time(0, 0), tzinfo=TZ) + timedelta(minutes=self.minute)
            end = datetime.combine(last, time(0, 0), tzinfo=TZ) + timedelta(
                minutes=self.minute + self.duration_minutes
            )
            start_text, end_text = _utc(start), _utc(end)
            kind = "time"
        if self.implausible_date == "epoch":
            start_text = "1970-01-01T00:00:00Z"  # exactly as issue 18 quotes it
        elif self.implausible_date == "far_future":
            start_text, end_text = _years_later(start_text), _years_later(end_text)
        start_value: object = start_text
        if self.start_style == "slashes":
            start_value = _slashes(start_text)
        elif self.start_style == "object":
            start_value = {"value": start_text}
        subcategory = LENGTHENING * 80 if self.lengthening_subcategory else "classic-rock"
        return {
            "id": _written_id(self.key, self.id_style),
            "title": {"rendered": self.title} if self.nested_title else self.title,
            "description": f"Description of event {self.key}.",
            "category": "entertainment",
            "subcategories": [subcategory, "entertainment"],
            "allDay": _flag(self.all_day, self.all_day_style),
            "cancelled": _flag(self.cancelled, self.cancelled_style),
            "featured": False,
            "start": {"date": start_value, "type": kind},
            "end": {"date": end_text, "type": kind},
            "location": {"title": "Savannah Center", "category": "entertainment"},
            "address": {"streetAddress": "1545 Buena Vista Boulevard", "locality": "The Villages"},
            "url": "https://www.thevillagesentertainment.com/",
        }


@dataclass
class ModelCalendar:
    """What the calendar lists, by key."""

    events: dict[int, ModelEvent] = field(default_factory=dict)
    next_key: int = FIRST_KEY

    def new_key(self) -> int:
        self.next_key += 1 + (self.next_key % 7)  # uneven gaps, like the real ids
        return self.next_key

    def raw(self, today: date, *, keep: object = None) -> list[dict]:
        """The API's events (``keep``: a predicate on ModelEvent, for a partial answer)."""
        return [e.raw(today) for e in self.events.values() if keep is None or keep(e)]  # type: ignore[operator]

    def valid(self, days_ahead: int | None = None) -> list[ModelEvent]:
        """Valid events (starting inside today .. today + ``days_ahead`` when given)."""
        return [
            e
            for e in self.events.values()
            if e.valid and (days_ahead is None or 0 <= e.day <= days_ahead)
        ]

    def usable_ids(self) -> dict[str, ModelEvent]:
        return {e.event_id: e for e in self.events.values() if e.event_id is not None}

    def invalid_count(self, days_ahead: int | None = None) -> int:
        """Invalid events (starting inside the window when ``days_ahead`` is given)."""
        return sum(
            1
            for e in self.events.values()
            if not e.valid and (days_ahead is None or 0 <= e.day <= days_ahead)
        )


def today() -> date:
    return datetime.now(TZ).date()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _years_later(iso_text: str) -> str:
    return f"{int(iso_text[:4]) + FAR_FUTURE_YEARS:04d}{iso_text[4:]}"


def _slashes(iso_text: str) -> str:
    """``2026-12-01T22:00:00.000Z`` as ``2026/12/01 22:00:00 UTC`` (issue 9, case 1)."""
    moment = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))  # with or without .000
    return moment.strftime("%Y/%m/%d %H:%M:%S UTC")


def _written_id(key: int, style: str) -> object:
    if style == "int":
        return key
    if style == "str":
        return str(key)
    if style == "digits21":
        return str(10**20 + key)
    if style == "digits5000":
        return "9" * 4990 + f"{key:010d}"
    if style == "bool":
        return True
    return {"value": key}


def _flag(value: bool, style: str) -> object:
    if style == "json":
        return value
    if style == "lower":
        return "true" if value else "false"
    if style == "upper":
        return "TRUE" if value else "False"
    if style == "number":
        return 1 if value else 0
    if style == "yes_no":
        return "yes" if value else "no"
    if style == "word":
        return "maybe"
    return {"value": value}
