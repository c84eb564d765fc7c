"""The demo's text output of today's events: a long list is cut, and says where the rest are
(issue 20: the demo's "... and N more" had no hint; the demo's own data rarely lists more than
15 events on one day, so the end-to-end demo runs seldom reach the cut)."""

from __future__ import annotations

from datetime import date

import pytest
from villages_sync_ops.cli.demo import TODAY_SHOWN, print_todays_events

TODAY = date(2026, 12, 6)


def _events(n: int) -> list[dict]:
    return [
        {"start_time": f"{8 + i // 4:02d}:{i % 4 * 15:02d}", "title": f"Event {i:02d}"}
        for i in range(n)
    ]


def test_demo_today_longer_than_shown_lists_the_first_and_says_how_many_more_and_where(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five events more than the demo lists (a wide, plain output)
    monkeypatch.setenv("COLUMNS", "200")
    events = _events(TODAY_SHOWN + 5)

    # When the demo prints today's events
    print_todays_events(TODAY, events)

    # Then the heading counts all, the first 15 are listed, and one line says the rest are 5
    # and that `demo --json` lists them
    out = capsys.readouterr().out
    assert f"== today, Sunday 06 December 2026: {TODAY_SHOWN + 5} event(s) ==" in out
    listed = [e["title"] for e in events if e["title"] in out]
    assert listed == [e["title"] for e in events[:TODAY_SHOWN]]
    assert out.rstrip().splitlines()[-1] == (
        "  ... and 5 more (villages-sync demo --json lists them all)"
    )


@pytest.mark.parametrize("count", [0, 1, TODAY_SHOWN])
def test_demo_today_within_what_is_shown_lists_all_with_no_more_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    events = _events(count)

    print_todays_events(TODAY, events)

    out = capsys.readouterr().out
    assert all(e["title"] in out for e in events)
    assert "more" not in out
