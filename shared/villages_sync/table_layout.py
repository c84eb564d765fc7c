"""The events table's layout that pure code and adapters share: the ``span`` value that puts an
item in the multi-day index. A module of its own (no imports) so that the skill's reads need
not import ``models`` (its dataclasses and enums are a few milliseconds of a cold start)."""

MULTI_DAY_SPAN = "multi-day"  # value of ``span`` on items that end on a later date
