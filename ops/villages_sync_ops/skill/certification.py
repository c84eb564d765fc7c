"""Certification pre-flight for the skill package: the checks Amazon's reviewers and the model
build apply, run locally before ``ask deploy`` (``villages-sync skill check``).

Pure: every check takes plain data (the parsed ``skill.json`` and interaction model, the icon
files' first bytes, the prompt texts, the venues in a table) and returns the problems it finds,
each naming what is wrong and where. Reading the files and the table is the command's job.

The rules are Amazon's published ones: "Invocation name requirements" (lower-case letters,
spaces, apostrophes and abbreviation periods; two words or more; no launch phrases, connecting
words, wake words, "skill" or "app"; a two-word name without an article, pronoun or
preposition), "Example phrases" (the wake word, a launch phrase, the invocation name, then a
sample utterance of the model word for word, with slot values the slot types hold), the model
build's (every slot type defined, no sample in two intents) and the store's icons (108x108 and
512x512 PNG). A reply that keeps the session open must ask the listener something or tell them
what to say (certification's "session stays open without a prompt").

Over 400 lines for a reason: it is a list of Amazon's rules, one small pure check each, read
side by side with the published text; split, the list would be harder to check against it.
"""

from __future__ import annotations

import re
import struct
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.setting_parsers import DEFAULT_TIMEZONE

INVOCATION_CHARACTERS = re.compile(r"^[a-z][a-z' .]*[a-z.]$")
LAUNCH_PHRASES = frozenset(
    {"launch", "ask", "tell", "load", "begin", "enable", "open", "start", "play", "run", "use"}
)
CONNECTING_WORDS = frozenset({"to", "from", "by", "if", "and", "whether"})
WAKE_AND_BRAND_WORDS = frozenset({"alexa", "amazon", "echo", "computer", "skill", "app"})
# Words a two-word name may not contain: articles, pronouns, prepositions.
FILLER_WORDS = frozenset({"the", "a", "an", "my", "your", "for", "to", "of", "in", "on", "at"})
INVOCATION_LENGTH = (2, 50)

WAKE_WORD = "alexa"
# The launch phrases of a spoken example, longest first: "talk to" before "talk".
EXAMPLE_LAUNCHES = ("talk to", "open", "start", "launch", "begin", "ask", "tell", "load", "use")
OPENING_LAUNCHES = frozenset({"open", "start", "launch", "begin", "talk to", "load", "use"})
EXAMPLE_CONNECTORS = ("to", "for", "about", "whether", "if", "and", "that")
MAX_EXAMPLE_PHRASES = 3
BUILT_IN_SLOT_WORDS = 4  # "next saturday afternoon", "the fourth of july"

ICON_SIZES = {"smallIconUri": 108, "largeIconUri": 512}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ICON_BYTES_NEEDED = 24  # the signature, the IHDR chunk's length and type, width and height

INSTRUCTION_VERBS = frozenset({"say", "ask", "try", "tell", "choose", "pick", "name"})


@dataclass(frozen=True, slots=True)
class Problem:
    check: str  # which rule: "invocation name", "example phrase", "icon", ...
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


# ------------------------------------------------------------------------- invocation name


def invocation_name_problems(name: str) -> list[Problem]:
    def problem(detail: str) -> Problem:
        return Problem("invocation name", f"{name!r} {detail}")

    problems = []
    low, high = INVOCATION_LENGTH
    if not low <= len(name) <= high:
        problems.append(problem(f"has {len(name)} characters; Alexa takes {low} to {high}"))
    if not INVOCATION_CHARACTERS.match(name):
        problems.append(
            problem(
                "may hold only lower-case letters, spaces, apostrophes and the periods of an "
                "abbreviation (a. b. c.); spell numbers out"
            )
        )
    words = name.split()
    lowered = [word.lower().strip("'") for word in words]
    if len(words) < 2:
        problems.append(problem("is one word; Amazon takes one only for a brand you own"))
    for word in lowered:
        if word in LAUNCH_PHRASES:
            problems.append(problem(f"contains the launch phrase {word!r}"))
        if word in CONNECTING_WORDS:
            problems.append(problem(f"contains the connecting word {word!r}"))
        if word in WAKE_AND_BRAND_WORDS:
            problems.append(problem(f"contains {word!r} (wake words, 'skill' and 'app' are out)"))
    if len(words) == 2 and (fillers := [w for w in lowered if w in FILLER_WORDS]):
        problems.append(problem(f"is two words, one of them {fillers[0]!r}"))
    return problems


# ------------------------------------------------------------------------- the model


def _language_model(model: Mapping[str, Any]) -> Mapping[str, Any]:
    language_model: Mapping[str, Any] = model.get("interactionModel", {}).get("languageModel", {})
    return language_model


def _words(text: str) -> list[str]:
    """Lower-case words, the punctuation a listener does not say dropped (apostrophes kept)."""
    return re.sub(r"[^a-z0-9'{} ]+", " ", text.lower().replace("\u2019", "'")).split()


def slot_type_problems(model: Mapping[str, Any]) -> list[Problem]:
    language = _language_model(model)
    defined = {t.get("name") for t in language.get("types", [])}
    problems = []
    for intent in language.get("intents", []):
        declared = {slot.get("name"): slot.get("type", "") for slot in intent.get("slots", [])}
        for slot_name, slot_type in declared.items():
            if not slot_type.startswith("AMAZON.") and slot_type not in defined:
                problems.append(
                    Problem(
                        "slot type",
                        f"{intent.get('name')}.{slot_name} uses {slot_type!r}, which the model "
                        "does not define (and is not an AMAZON. type)",
                    )
                )
        for sample in intent.get("samples", []):
            for used in re.findall(r"{([^}]*)}", sample):
                if used not in declared:
                    problems.append(
                        Problem(
                            "slot type",
                            f"{intent.get('name')} sample {sample!r} names the slot {{{used}}}, "
                            "which the intent does not declare",
                        )
                    )
    return problems


def duplicate_sample_problems(model: Mapping[str, Any]) -> list[Problem]:
    owners: dict[str, list[str]] = defaultdict(list)
    for intent in _language_model(model).get("intents", []):
        for sample in intent.get("samples", []):
            owners[" ".join(_words(sample))].append(intent.get("name", "?"))
    problems = []
    for sample, intents in owners.items():
        if len(set(intents)) > 1:
            problems.append(
                Problem("sample", f"{sample!r} is a sample of {', '.join(sorted(set(intents)))}")
            )
        elif len(intents) > 1:
            problems.append(Problem("sample", f"{sample!r} is in {intents[0]} twice"))
    return problems


# ------------------------------------------------------------------------- example phrases


def example_phrase_problems(
    phrases: Sequence[str], model: Mapping[str, Any], *, locale: str = "en-US"
) -> list[Problem]:
    language = _language_model(model)
    invocation = _words(language.get("invocationName", ""))
    where = f"{locale} example phrase"
    if not phrases:
        return [Problem(where, "none given; the store needs at least one")]
    problems = []
    if len(phrases) > MAX_EXAMPLE_PHRASES:
        problems.append(Problem(where, f"{len(phrases)} given; the store shows at most 3"))
    for phrase in phrases:
        words = _words(phrase)
        if words[:1] != [WAKE_WORD]:
            problems.append(Problem(where, f"{phrase!r} does not start with 'Alexa,'"))
            continue
        launch = next(
            (
                launch
                for launch in EXAMPLE_LAUNCHES
                if words[1 : 1 + len(launch.split())] == launch.split()
            ),
            None,
        )
        if launch is None:
            problems.append(Problem(where, f"{phrase!r} has no launch phrase (open, ask, ...)"))
            continue
        rest = words[1 + len(launch.split()) :]
        if rest[: len(invocation)] != invocation:
            problems.append(
                Problem(
                    where, f"{phrase!r} does not say the invocation name {' '.join(invocation)!r}"
                )
            )
            continue
        utterance = rest[len(invocation) :]
        if not utterance:
            if launch not in OPENING_LAUNCHES:
                problems.append(Problem(where, f"{phrase!r}: '{launch}' needs a request after it"))
            continue
        if not _matches_a_sample(utterance, language):
            problems.append(
                Problem(
                    where,
                    f"{phrase!r}: {' '.join(utterance)!r} is no sample utterance of the model "
                    "(word for word, with slot values the slot types hold)",
                )
            )
    return problems


def _matches_a_sample(utterance: list[str], language: Mapping[str, Any]) -> bool:
    candidates = [utterance]
    if len(utterance) > 1 and utterance[0] in EXAMPLE_CONNECTORS:
        candidates.append(utterance[1:])  # "ask X to ...", "ask X for ..."
    values = _slot_values(language)
    for intent in language.get("intents", []):
        slot_types = {slot.get("name"): slot.get("type", "") for slot in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            tokens = _sample_tokens(sample)
            for words in candidates:
                if _match(tokens, words, slot_types, values):
                    return True
    return False


def _sample_tokens(sample: str) -> list[str]:
    return [token for token in re.split(r"({[^}]*})| +", sample) if token]


def _slot_values(language: Mapping[str, Any]) -> dict[str, set[tuple[str, ...]]]:
    values: dict[str, set[tuple[str, ...]]] = {}
    for slot_type in language.get("types", []):
        names = values.setdefault(slot_type.get("name", ""), set())
        for value in slot_type.get("values", []):
            name = value.get("name", {})
            for said in [name.get("value", ""), *name.get("synonyms", [])]:
                names.add(tuple(_words(said)))
    return values


def _match(
    tokens: list[str],
    words: list[str],
    slot_types: Mapping[str, str],
    values: Mapping[str, set[tuple[str, ...]]],
) -> bool:
    if not tokens:
        return not words
    token, rest = tokens[0], tokens[1:]
    if not token.startswith("{"):
        expected = _words(token)
        return words[: len(expected)] == expected and _match(
            rest, words[len(expected) :], slot_types, values
        )
    slot_type = slot_types.get(token[1:-1], "")
    for end in range(1, len(words) + 1):
        said = tuple(words[:end])
        if _holds(slot_type, said, values) and _match(rest, words[end:], slot_types, values):
            return True
    return False


def _holds(
    slot_type: str, said: tuple[str, ...], values: Mapping[str, set[tuple[str, ...]]]
) -> bool:
    """Whether a slot of this type can take these words: a custom type's value or synonym; for
    a built-in type (AMAZON.DATE, ...) a few words that name nothing of the custom types (else
    "what's on {date}" would swallow "at lake sumter tomorrow")."""
    if not slot_type.startswith("AMAZON."):
        return said in values.get(slot_type, set())
    if len(said) > BUILT_IN_SLOT_WORDS:
        return False
    return not any(
        said[start : start + len(value)] == value
        for known in values.values()
        for value in known
        for start in range(len(said) - len(value) + 1)
    )


# ------------------------------------------------------------------------- icons


def icon_problems(
    locales: Mapping[str, Mapping[str, Any]], icon_bytes: Callable[[str], bytes | None]
) -> list[Problem]:
    """``icon_bytes(uri)``: the first bytes of the file a ``file://`` URI names in the package,
    None when there is no such file."""
    problems = []
    for locale, info in locales.items():
        for field, size in ICON_SIZES.items():
            where = f"{locale} {field}"
            uri = info.get(field)
            if not uri:
                problems.append(Problem("icon", f"{where} is missing ({size}x{size} PNG)"))
                continue
            if not str(uri).startswith("file://"):
                problems.append(
                    Problem("icon", f"{where} {uri!r} is not a file:// URI in the skill package")
                )
                continue
            head = icon_bytes(str(uri))
            if head is None:
                problems.append(Problem("icon", f"{where}: {uri} is not in the skill package"))
                continue
            found = png_size(head)
            if found is None:
                problems.append(Problem("icon", f"{where}: {uri} is not a PNG"))
            elif found != (size, size):
                problems.append(
                    Problem(
                        "icon",
                        f"{where}: {uri} is {found[0]}x{found[1]}; it must be {size}x{size}",
                    )
                )
    return problems


def png_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's header (its IHDR chunk comes first), None if not a PNG."""
    if len(head) < ICON_BYTES_NEEDED or not head.startswith(PNG_SIGNATURE):
        return None
    if head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


# ------------------------------------------------------------------------- prompts


def prompt_problems(prompts: Mapping[str, str]) -> list[Problem]:
    """``prompts``: the words of every reply that keeps the session open (and its reprompt),
    by a name saying where it is said. Each must end with a question or an instruction."""
    return [
        Problem(
            "open-session prompt",
            f"{name} ends {_last_sentence(text)!r}: a reply that keeps the session open must "
            "end with a question or tell the listener what to say",
        )
        for name, text in prompts.items()
        if not asks_or_instructs(text)
    ]


def asks_or_instructs(text: str) -> bool:
    last = _last_sentence(text)
    if last.endswith("?"):
        return True
    words = [re.sub(r"[^a-z]", "", word.lower()) for word in last.split()]
    if words[:2] == ["you", "can"]:  # "You can ask about concerts or sports."
        words = words[2:]
    return bool(words) and words[0] in INSTRUCTION_VERBS


def _last_sentence(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return sentences[-1] if sentences else ""


# ------------------------------------------------------------------------- the venue catalogue


def catalogue_problems(
    venue_events: Mapping[str, int], known: Callable[[str], object | None]
) -> list[Problem]:
    """``venue_events``: each location in the table with its number of events; ``known``: the
    catalogue's look-up (None for a location no venue of the model matches)."""
    return [
        Problem(
            "venue catalogue",
            f"{location!r} ({count} event{'s' if count != 1 else ''}) is in the table but not "
            "in villages_sync/skill/catalog.py",
        )
        for location, count in sorted(venue_events.items())
        if location.strip() and known(location) is None
    ]


# ------------------------------------------------------------------------- all of it


def package_problems(
    manifest: Mapping[str, Any],
    models: Mapping[str, Mapping[str, Any]],
    icon_bytes: Callable[[str], bytes | None],
) -> list[Problem]:
    """Every check of the package's own files: ``manifest`` is skill.json, ``models`` the
    interaction models by locale (interactionModels/custom/<locale>.json)."""
    publishing = manifest.get("manifest", {}).get("publishingInformation", {})
    locales: Mapping[str, Mapping[str, Any]] = publishing.get("locales", {})
    problems: list[Problem] = []
    for locale in sorted(set(locales) - set(models)):
        problems.append(Problem("interaction model", f"{locale} has no interaction model"))
    for locale, model in sorted(models.items()):
        name = _language_model(model).get("invocationName", "")
        problems += invocation_name_problems(name)
        problems += slot_type_problems(model)
        problems += duplicate_sample_problems(model)
        if locale in locales:
            phrases = locales[locale].get("examplePhrases", [])
            problems += example_phrase_problems(phrases, model, locale=locale)
    problems += icon_problems(locales, icon_bytes)
    return problems


def conversation_prompts() -> dict[str, str]:
    """The words of every reply the conversation gives with the session left open, and of each
    reprompt, by where it is said. Built by asking ``villages_sync.skill.conversation`` for
    them (its fixed prompts and its replies to every kind of misunderstanding), so a new
    problem kind or a reworded reply is checked without a change here."""
    from villages_sync.skill import conversation as talk
    from villages_sync.skill.dates import DateProblem

    prompts: dict[str, str] = {}

    def add(name: str, reply: Any) -> None:
        if reply is None or reply.ends_session:
            return
        prompts[name] = reply.speech.text
        prompts[f"{name} (reprompt)"] = reply.reprompt.text

    for name in ("WELCOME", "HELP", "FALLBACK", "ASK_AGAIN", "MORE_PROMPT", "NOTHING_PENDING"):
        if hasattr(talk, name):  # the fixed prompts the handler says with the session open
            prompts[name] = getattr(talk, name)
    problems: list[DateProblem | talk.SlotProblem] = [
        talk.SlotProblem.VENUE,
        talk.SlotProblem.CATEGORY,
        *DateProblem,
    ]
    for problem in problems:
        add(f"not understood ({problem})", talk.not_understood(talk.NotUnderstood(problem, "x")))
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    add("nothing more to read", talk.continue_answer({}, read=lambda days: [], tz=zone))
    asked = datetime(2026, 12, 5, 18, 30, tzinfo=zone)  # any evening
    question = talk.understand({}, today=asked.date())
    assert isinstance(question, talk.Question)  # no slot filled: nothing to misunderstand
    nothing = talk.answer_question(question, read=lambda days: [], now=asked, tz=zone)
    add("nothing on today", nothing)
    return prompts
