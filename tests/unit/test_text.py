"""clean_text and truncate: what reaches the skill is plain, printable, folded and bounded."""

from __future__ import annotations

import pytest
from villages_sync.text import clean_text, truncate


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>Line <b>dance</b></p>", "Line dance"),
        ("Before<script>alert(1)</script>After", "Before After"),
        ("Hi<style>p { color: red }</style>there", "Hi there"),
        ("Fish &amp; Chips &quot;live&quot;", 'Fish & Chips "live"'),
        ("Safe &lt;script&gt;alert(1)&lt;/script&gt; text", "Safe text"),
        ("a\u00a0b&nbsp;c", "a b c"),
        ("a\x00b\x07c\u200bd\u202ee", "abcde"),
        ("  many \t\n  spaces\r\n here  ", "many spaces here"),
        ("", ""),
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        # A bare ampersand is text, at the end of the input too (html.parser dropped it there)
        ("Q&A at AT&T", "Q&A at AT&T"),
        ("R&D", "R&D"),
        ("Bed & B&B", "Bed & B&B"),
        ("<b>Dinner at the B&B</b>", "Dinner at the B&B"),
    ],
)
def test_clean_text_markup_and_characters_plain_text(raw: str, expected: str) -> None:
    # Given scraped text with markup, entities or odd characters
    # When it is cleaned
    cleaned = clean_text(raw, 500)
    # Then only the plain, printable, folded text is left
    assert cleaned == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, ""), (True, ""), (False, ""), ({"a": 1}, ""), (["x"], ""), (42, "42"), (2.5, "2.5")],
)
def test_clean_text_non_string_input_text_of_numbers_only(raw: object, expected: str) -> None:
    # Given a value that is not a string
    # When it is cleaned
    cleaned = clean_text(raw, 100)
    # Then numbers become their text and anything else becomes ""
    assert cleaned == expected


def test_clean_text_long_text_truncated_to_max_chars() -> None:
    # Given text longer than the limit
    raw = "<p>" + "word " * 100 + "</p>"
    # When it is cleaned with a limit
    cleaned = clean_text(raw, 42)
    # Then it is at most the limit, ends with an ellipsis and cuts on a word boundary
    assert len(cleaned) <= 42
    assert cleaned.endswith("…")
    assert cleaned[:-1].split(" ") == ["word"] * len(cleaned[:-1].split(" "))


@pytest.mark.parametrize(
    ("text", "max_chars", "expected"),
    [
        ("short", 10, "short"),
        ("exactly ten", 11, "exactly ten"),
        ("the quick brown fox jumps", 12, "the quick…"),
        ("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"),
        ("abc", 1, "a"),
        ("abc", 0, ""),
    ],
)
def test_truncate_over_limit_word_boundary_with_ellipsis(
    text: str, max_chars: int, expected: str
) -> None:
    # Given a text and a limit
    # When it is truncated
    result = truncate(text, max_chars)
    # Then it is cut on a word boundary (or mid-word when no boundary is near) with "…"
    assert result == expected
    assert len(result) <= max_chars


@pytest.mark.parametrize("max_chars", [2, 3, 5, 8, 13, 21, 34, 55])
def test_truncate_any_limit_never_longer_than_max_chars(max_chars: int) -> None:
    # Given a long text of mixed word lengths
    text = " ".join("x" * (n % 7 + 1) for n in range(60))
    # When it is truncated to each limit
    result = truncate(text, max_chars)
    # Then it never exceeds the limit and shows it was cut
    assert len(result) <= max_chars
    assert result.endswith("…")
