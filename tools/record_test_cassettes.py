"""Re-record the cassettes under tests/fixtures/cassettes/ from the stand-in calendar.

    .venv/bin/python tools/record_test_cassettes.py

Run it when the client deliberately changes what it asks for (the replay tests fail until
then); review the diff of the cassettes like any other change.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from villages_sync.settings import CalendarSettings
from villages_sync_ops.calendar_api.cassettes import record_scrape
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

HERE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cassettes"
TODAY = date(2026, 12, 6)
# 70 events behind pages capped at 20 rows, the first events request failing with a 503
# then a 429 with Retry-After 0: the client's paging, gap-filling, retries and probe past
# the count, all in one small recording.
EVENTS = generate_events(70, seed=22, today=TODAY)
FAULTS = {"page_cap": 20, "fail_first_n": 1, "status_for_failures": 503, "rate_limit_first_n": 1}
SETTINGS = {"page_size": 25, "max_concurrency": 1, "backoff_base_seconds": 0.0}


def main() -> None:
    with RunningCalendar(EVENTS, faults=Faults(**FAULTS, retry_after_seconds=0)) as base_url:
        settings = CalendarSettings(base_url=base_url, **SETTINGS)  # type: ignore[arg-type]
        result = record_scrape(settings, HERE / "standin_capped_with_retries.yaml")
    print(result)


if __name__ == "__main__":
    main()
