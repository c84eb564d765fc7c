"""Cleaning scraped text for the skill: no markup, no control characters, folded whitespace."""

from __future__ import annotations

import html
import re
import unicodedata
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

_TAG_LIKE = re.compile(r"</?[A-Za-z!/?][^<>]*>")
_WHITESPACE = re.compile(r"\s+")
_ELLIPSIS = "…"


def clean_text(value: object, max_chars: int) -> str:
    """Plain text of ``value``, at most ``max_chars`` characters.

    Markup is removed (the content of script and style dropped), entities decoded, and anything
    still shaped like a tag after decoding (``&lt;script&gt;`` becomes ``<script>``) removed too,
    so nothing markup-like reaches the skill. Non-breaking spaces become spaces; control and
    format characters go; whitespace is folded. Numbers become their text; other non-strings "".
    """
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return ""
    # Control, format and lone-surrogate characters go first: JSON can carry a lone surrogate
    # ("\ud800"), which BeautifulSoup cannot encode; it raised and failed the whole run.
    text = "".join(ch for ch in text if _printable(ch))
    if "&" in text and "<" not in text:
        text = html.unescape(text)  # entities only ("Rock &amp; Roll"): no parser needed
    if "<" in text:
        text = _strip_markup(text)
    text = "".join(" " if ch.isspace() else ch for ch in text if _printable(ch))
    text = _WHITESPACE.sub(" ", text).strip()
    return truncate(text, max_chars)


def truncate(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars``, on a word boundary with an ellipsis where it can be."""
    if len(text) <= max_chars:
        return text
    if max_chars <= 1:
        return text[:max_chars]
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space >= max_chars // 2:
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


def _strip_markup(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        # The trailing space: html.parser drops a bare "&name" at the very end of its input
        # ("AT&T" became "ATT"); whitespace is folded away afterwards anyway.
        soup = BeautifulSoup(text + " ", "html.parser")
    for hidden in soup(["script", "style", "template", "noscript"]):
        hidden.decompose()
    decoded = soup.get_text(" ")
    # Decoded entities may spell a tag: remove those as well (repeat for nested spellings).
    previous = None
    while previous != decoded:
        previous, decoded = decoded, _TAG_LIKE.sub(" ", decoded)
    return decoded


def _printable(ch: str) -> bool:
    if ch.isspace():
        return True
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
