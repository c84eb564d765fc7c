"""clean_text's fast paths give exactly the reference path's text (BeautifulSoup, character by
character filtering) on every input they accept; markup separates text only where the element
is not inline."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from villages_sync import text
from villages_sync.text import clean_text

# Characters that matter to the parser and the filters, and any character at all.
_AWKWARD = list("<>&;#/=\"' \t\n\r\x0c\u00a0\u2028\u200b\x00\x1fabpPrtBS1xX!?-")
_ANY_TEXT = st.text(st.sampled_from(_AWKWARD) | st.characters(), max_size=80)
_PLAIN_TEXT = st.text(
    st.characters(blacklist_characters="<&") | st.sampled_from(list(" \t\n\u00a0\x00\u200b")),
    max_size=80,
)
_TAG_NAMES = [*sorted(text._SIMPLE_TAGS), "P", "Strong", "BR", "script", "style", "foo", "rt"]
_ATTRIBUTES = st.lists(
    st.tuples(
        st.sampled_from(["class", "href", "data-x", "title", "CLASS"]),
        st.text(st.sampled_from(list("ab /:.-#?")), max_size=8),
    ),
    max_size=2,
).map(lambda pairs: "".join(f' {name}="{value}"' for name, value in pairs))
_WORDS = st.text(
    st.sampled_from(list("ab .,;:!'-\n\t\u00a0>")) | st.characters(max_codepoint=0x2FF),
    max_size=8,
)
_ENTITIES = st.sampled_from(["&amp;", "&quot;", "&nbsp;", "&#39;", "&lt;", "&copy;", "&", "&amp"])


@st.composite
def _markup(draw: st.DrawFn) -> str:
    """Mostly simple markup (properly nested known tags, a few entities), sometimes not."""
    parts: list[str] = []
    open_tags: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["open", "open", "close", "close", "void", "self", "text"]))
        name = draw(st.sampled_from(_TAG_NAMES))
        if kind == "open":
            parts.append(f"<{name}{draw(_ATTRIBUTES)}>")
            open_tags.append(name)
        elif kind == "close" and open_tags:
            parts.append(f"</{open_tags.pop()}>")
        elif kind == "void":
            parts.append(f"<{draw(st.sampled_from(['br', 'hr', 'wbr', 'BR']))}>")
        elif kind == "self":
            parts.append(f"<{name}{draw(_ATTRIBUTES)}/>")
        else:
            parts.append(draw(_WORDS))
            if draw(st.booleans()):
                parts.append(draw(_ENTITIES))
    if draw(st.booleans()):
        parts += [f"</{name}>" for name in reversed(open_tags)]
    return "".join(parts)


def _folded(value: str) -> str:
    return text._WHITESPACE.sub(" ", text._printable_only(value, reference=True)).strip()


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_markup())
def test_simple_markup_accepted_input_same_text_as_beautifulsoup(markup: str) -> None:
    # Given markup the fast path accepts
    fast = text._simple_markup_text(markup)
    assume(fast is not None)

    # When BeautifulSoup reads the same markup
    reference = text._strip_markup(markup)

    # Then the two give the same text once whitespace is folded (as clean_text folds it)
    assert _folded(fast) == _folded(reference)


@settings(max_examples=500, deadline=None)
@given(_PLAIN_TEXT)
def test_clean_text_plain_text_same_as_reference_path(value: str) -> None:
    # Given text with neither markup nor entities (the plain fast path)
    # When it is cleaned both ways
    # Then the results are identical
    assert clean_text(value, 60) == clean_text(value, 60, reference=True)


@settings(max_examples=800, deadline=None)
@given(_ANY_TEXT | _markup())
def test_clean_text_any_text_same_as_reference_path(value: str) -> None:
    # Given any text at all, markup-like or not
    # When it is cleaned both ways
    # Then the results are identical (what the fast paths refuse goes to the reference)
    assert clean_text(value, 500) == clean_text(value, 500, reference=True)


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Bring your dancing shoes for an evening of <strong>oldies</strong>.</p>",
        "<p>Meets weekly.<br>Resident ID required.</p>",
        "<p>Vendors, music &amp; food all day.</p>",
        '<div class="x"><a href="https://example.test/a">Tickets</a> &nbsp;on sale</div>',
    ],
)
def test_simple_markup_typical_descriptions_take_the_fast_path(markup: str) -> None:
    # Given descriptions shaped like the calendar's
    # When the fast path reads them
    fast = text._simple_markup_text(markup)
    # Then it accepts them, with BeautifulSoup's text
    assert fast is not None
    assert _folded(fast) == _folded(text._strip_markup(markup))


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>an evening of <strong>oldies</strong>.</p>", "an evening of oldies."),
        ("<p>a</p><p>b</p>", "a b"),
        ("a<br>b", "a b"),
        ("<li>one</li><li>two</li>", "one two"),
        ("super<wbr>cali<em>fragil</em>istic", "supercalifragilistic"),
        ("<b>Dinner</b><i>Dance</i>", "DinnerDance"),
        ("<td>1</td><td>2</td>", "1 2"),
        ("x<foo>y</foo>z", "x y z"),
        ("Before<script>alert(1)</script>After", "Before After"),
    ],
)
@pytest.mark.parametrize("reference", [False, True])
def test_clean_text_inline_elements_join_other_elements_separate(
    markup: str, expected: str, reference: bool
) -> None:
    # Given markup with inline and block elements next to text and punctuation
    # When it is cleaned (either path)
    cleaned = clean_text(markup, 200, reference=reference)
    # Then a space stands only where a non-inline element was
    assert cleaned == expected


def test_clean_text_entity_cut_by_a_tag_reads_as_the_parser_reads_it() -> None:
    # Given the counter-example hypothesis shrank: "&amp" and ";" on either side of tags (the
    # fast path decoded entities after dropping the tags, and read "&amp;")
    markup = "&amp<a><a>;"

    # When / Then: the text is the parser's, "&" then ";"
    assert text.clean_text(markup, 100) == "&;" == _folded(text._strip_markup(markup))
