"""Cleaning scraped text for the skill: no markup, no control characters, folded whitespace.

Two ways to the same result. The reference path parses markup with BeautifulSoup and filters
character by character; it is the definition. The fast paths (plain text: no parser at all;
simple markup such as ``<p>Meets <b>weekly</b>.</p>``: one regular expression) take only input
on which they give exactly the reference's output, and hand anything else to the reference
(tests/unit/test_text_paths.py checks the equality on generated text). Normalising spends most
of its time here: BeautifulSoup costs some 100 us a string, the fast paths about 2.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
import warnings

from bs4 import BeautifulSoup, CData, MarkupResemblesLocatorWarning, Tag
from bs4.element import NavigableString

_TAG_LIKE = re.compile(r"</?[A-Za-z!/?][^<>]*>")
_TAG_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!/?")
_ANGLE_BRACKET = re.compile(r"([<>])")
# Raw text is cut to this many times the limit before anything else: the cleaned text is cut
# to the limit anyway, and markup, entities and whitespace a 32nd of the rest is more than any
# calendar writes. It bounds the parser's input (a 1.5 MB description would keep BeautifulSoup
# busy for seconds) and every pass after it.
RAW_CHARS_PER_CHAR = 32
_WHITESPACE = re.compile(r"\s+")  # \s is exactly str.isspace() for str patterns
_ELLIPSIS = "…"
# Short texts repeat from event to event (venues, categories, address parts, the titles of
# recurring events): their cleaned text is remembered. Bounded: at most 4,096 entries of at
# most 200 characters. Descriptions, longer and more varied, are cleaned every time.
_CACHED_MAX_CHARS = 200
_HIDDEN = frozenset({"script", "style", "template", "noscript"})  # content never shown
# Phrasing elements: text runs on across them ("<strong>oldies</strong>." is "oldies.").
# Every other element (p, div, li, br, td, unknown ones) separates the text on its two sides.
_INLINE = frozenset(
    ("a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn",
     "em", "font", "i", "ins", "kbd", "label", "mark", "q", "s", "samp", "small", "span",
     "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr")
)  # fmt: skip
_TEXT_STRINGS = (NavigableString, CData)  # what get_text() counts: no comments, no scripts
# The simple markup the fast path takes: tags it knows, quoted attribute values without markup
# characters, and a few entities. Anything else (comments, unquoted or odd attributes, other
# entities, a stray "<") goes to BeautifulSoup.
_SIMPLE_VOID = frozenset({"br", "hr", "wbr"})
_SIMPLE_TAGS = _INLINE | _SIMPLE_VOID | {"p", "div", "ul", "ol", "li", "blockquote"}
_SIMPLE_TOKEN = re.compile(
    r"""<(?P<end>/)?(?P<name>[A-Za-z][A-Za-z0-9]{0,9})"""
    r"""(?P<attrs>(?:[ \t\n]+[A-Za-z][A-Za-z-]{0,20}="[^"<>&]*")*)[ \t\n]*(?P<close>/)?>"""
)
_SIMPLE_ENTITY = re.compile(r"&(amp|quot|nbsp|#39);")
_SIMPLE_ENTITIES = {"amp": "&", "quot": '"', "nbsp": "\u00a0", "#39": "'"}


def clean_text(value: object, max_chars: int, *, reference: bool = False) -> str:
    """Plain text of ``value``, at most ``max_chars`` characters.

    Markup is removed (the content of script and style dropped), entities decoded, and anything
    still shaped like a tag after decoding (``&lt;script&gt;`` becomes ``<script>``) removed too,
    so nothing markup-like reaches the skill. Inline elements join their text to what is around
    them; other elements separate it with a space. Non-breaking spaces become spaces; control
    and format characters go; whitespace is folded. Numbers become their text; other
    non-strings "". ``reference=True`` takes the slow reference path (tests and benchmarks).
    """
    if isinstance(value, str):
        value = value[: RAW_CHARS_PER_CHAR * max(max_chars, 1)]
        if reference:
            return _clean(value, max_chars, reference=True)
        if len(value) <= _CACHED_MAX_CHARS:
            return _clean_cached(value, max_chars)
        return _clean(value, max_chars, reference=False)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return _clean(str(value), max_chars, reference=reference)
    return ""


def _clean(text: str, max_chars: int, *, reference: bool) -> str:
    if not reference and text.isprintable() and "<" not in text and "&" not in text:
        # The common case, plain printable text: its only whitespace is " " (every other kind
        # is unprintable), so there is nothing to drop and only runs of spaces to fold.
        text = _WHITESPACE.sub(" ", text) if "  " in text else text
        return truncate(text.strip(), max_chars)
    # Control, format and lone-surrogate characters go first: JSON can carry a lone surrogate
    # ("\ud800"), which BeautifulSoup cannot encode; it raised and failed the whole run.
    text = _printable_only(text, reference=reference)
    if "&" in text and "<" not in text:
        text = html.unescape(text)  # entities only ("Rock &amp; Roll"): no parser needed
    if "<" in text:
        simple = None if reference else _simple_markup_text(text)
        text = _strip_markup(text) if simple is None else simple
    text = _printable_only(text, reference=reference)
    return truncate(_WHITESPACE.sub(" ", text).strip(), max_chars)


@functools.lru_cache(maxsize=4096)
def _clean_cached(text: str, max_chars: int) -> str:
    return _clean(text, max_chars, reference=False)


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


def _printable_only(text: str, *, reference: bool) -> str:
    """``text`` without control, format, private-use, unassigned or surrogate characters;
    whitespace of every kind is kept (folded later)."""
    if not reference and (text.isprintable() or _WHITESPACE.sub(" ", text).isprintable()):
        return text  # str.isprintable() fails only on those and on whitespace: nothing to drop
    return "".join(ch for ch in text if _printable(ch))


def _strip_markup(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        # The trailing space: html.parser drops a bare "&name" at the very end of its input
        # ("AT&T" became "ATT"); whitespace is folded away afterwards anyway.
        soup = BeautifulSoup(text + " ", "html.parser")
    # Decoded entities may spell a tag: remove those as well, nested spellings too.
    return _remove_tag_like(_visible_text(soup))


def _remove_tag_like(text: str) -> str:
    """``text`` with every tag-shaped run replaced by a space, over and over until none is left
    (``<x<a>>``: the inner one goes, then ``<x >``), in one pass over it.

    Replacing every match of ``_TAG_LIKE`` again and again peeled one layer of nesting a pass:
    quadratic, 11 s for 288 kB of ``&lt;x`` ... ``&gt;``. Here each "<" waits on a stack for
    the ">" that closes it; a ">" closes the latest "<" when that is followed by a tag's first
    character (a run replaced before counts as the space it became), else it is text and no
    earlier "<" can reach past it. The replacements do not overlap, so the order they happen
    in does not change the result: the repeated passes' result, in linear time.
    """
    text = _TAG_LIKE.sub(" ", text)  # the usual case, in C: nothing nested
    if not _TAG_LIKE.search(text):
        return text
    out: list[str] = []
    opens: list[int] = []  # where in ``out`` each "<" a later ">" may still close is
    for piece in _ANGLE_BRACKET.split(text):
        if piece == "<":
            opens.append(len(out))
            out.append(piece)
        elif piece == ">":
            start = opens[-1] if opens else -1
            if start >= 0 and start + 1 < len(out) and out[start + 1][0] in _TAG_START:
                opens.pop()
                del out[start:]
                out.append(" ")
            else:
                opens.clear()
                out.append(piece)
        elif piece:
            out.append(piece)
    return "".join(out)


def _visible_text(root: Tag) -> str:
    """The text get_text() gives, without script/style content, and with a space around each
    element that is not inline (get_text(" ") put one around every element, inline or not)."""
    parts: list[str] = []
    # Iterative (a stack of child iterators), not recursive: hostile input nests deeply.
    stack = [(root, iter(root.contents))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if node is not root and node.name not in _INLINE:
                parts.append(" ")
        elif isinstance(child, Tag):
            if child.name in _HIDDEN:
                parts.append(" ")
            else:
                if child.name not in _INLINE:
                    parts.append(" ")
                stack.append((child, iter(child.contents)))
        elif type(child) in _TEXT_STRINGS:
            parts.append(str(child))
    return "".join(parts)


def _simple_markup_text(text: str) -> str | None:
    """What _strip_markup gives for ``text``, when ``text`` is simple markup; None otherwise.

    Simple: every "<" starts a known tag, tags nest properly, every "&" starts one of a few
    entities. The text between tags is then exactly what the parser would see.
    """
    parts: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in _SIMPLE_TOKEN.finditer(text):
        between = _simple_entities(text[position : match.start()])
        if between is None:
            return None
        parts.append(between)
        position = match.end()
        name = match["name"].lower()
        if name not in _SIMPLE_TAGS:
            return None
        if match["end"]:
            if match["attrs"] or match["close"] or not open_tags or open_tags.pop() != name:
                return None
        elif name in _SIMPLE_VOID:
            pass
        elif not match["close"]:
            open_tags.append(name)
        if name not in _INLINE:
            parts.append(" ")
    rest = _simple_entities(text[position:])
    if rest is None:
        return None
    parts.append(rest)
    return "".join(parts)


def _simple_entities(segment: str) -> str | None:
    """Text between two tags with its entities decoded; None when it holds a "<" or an "&"
    that starts none of the few simple entities. Each segment on its own: a tag ends an
    entity's name for the parser too ("&amp<b>;" reads "&;", not "&")."""
    if "<" in segment:
        return None
    if "&" not in segment:
        return segment
    if "&" in _SIMPLE_ENTITY.sub("", segment):
        return None
    return _SIMPLE_ENTITY.sub(lambda m: _SIMPLE_ENTITIES[m[1]], segment)


def _printable(ch: str) -> bool:
    if ch.isspace():
        return True
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
