"""clean_text's work is bounded by its limit, not by its input (issue 24, item 4).

Counted, not timed: how many characters reach the HTML parser, and how many passes the
tag-shaped-run removal makes. Before, an entity-encoded nested tag was peeled one layer a pass
over the whole text (288 kB took 11 s): n layers, n passes.
"""

from __future__ import annotations

import random

import pytest
from villages_sync import text
from villages_sync.text import RAW_CHARS_PER_CHAR, clean_text


def nested(n: int) -> str:
    return "<p>" + "&lt;x" * n + "&lt;a&gt;" + "&gt;" * n


class CountingPattern:
    """``_TAG_LIKE`` with its passes counted (a compiled pattern's methods cannot be patched)."""

    def __init__(self, pattern) -> None:
        self.pattern = pattern
        self.passes = 0

    def sub(self, *args, **kwargs):
        self.passes += 1
        return self.pattern.sub(*args, **kwargs)

    def search(self, *args, **kwargs):
        self.passes += 1
        return self.pattern.search(*args, **kwargs)


@pytest.mark.parametrize("reference", [False, True], ids=["fast path", "reference path"])
@pytest.mark.parametrize(("layers", "max_chars"), [(300, 10_000), (30_000, 2000)])
def test_clean_text_nested_entities_work_is_bounded(
    monkeypatch: pytest.MonkeyPatch, layers: int, max_chars: int, reference: bool
) -> None:
    # Given a nested entity-encoded tag, and the parser's input and the passes watched
    parsed: list[int] = []
    real_soup = text.BeautifulSoup

    def soup(markup: str, *args, **kwargs):
        parsed.append(len(markup))
        return real_soup(markup, *args, **kwargs)

    counting = CountingPattern(text._TAG_LIKE)
    monkeypatch.setattr(text, "BeautifulSoup", soup)
    monkeypatch.setattr(text, "_TAG_LIKE", counting)
    hostile = nested(layers)

    # When
    cleaned = clean_text(hostile, max_chars, reference=reference)

    # Then a fixed number of passes, over at most 32 times the limit, and nothing tag-shaped
    assert counting.passes <= 2
    assert parsed and max(parsed) <= RAW_CHARS_PER_CHAR * max_chars + 1
    assert counting.pattern.search(cleaned) is None
    assert len(cleaned) <= max_chars


def test_clean_text_nested_entities_within_the_cut_are_removed_entirely() -> None:
    # Given a nested tag that fits in the raw cut / When / Then every layer is gone
    assert clean_text("Bingo " + nested(200) + " tonight", 2000) == "Bingo tonight"


def repeated_passes(decoded: str) -> str:
    """The old definition: replace every tag-shaped run until none is left."""
    previous = None
    while previous != decoded:
        previous, decoded = decoded, text._TAG_LIKE.sub(" ", decoded)
    return decoded


def test_remove_tag_like_equals_the_repeated_passes_on_random_angle_soup() -> None:
    # Given strings of brackets, tag starts and text (seeded: the same 20,000 every run)
    rng = random.Random(24)
    alphabet = "<<>>ab !/?x\n"
    samples = ["".join(rng.choices(alphabet, k=rng.randint(0, 16))) for _ in range(20_000)]
    samples += ["<x<a>>", "<<a>x>", "<a <b>>", "< a>", "<>", "<a>>b>", "<!--<a>-->"]

    # When / Then the one pass gives what the passes repeated to a fixed point gave
    mismatched = [s for s in samples if text._remove_tag_like(s) != repeated_passes(s)]
    assert mismatched == []
