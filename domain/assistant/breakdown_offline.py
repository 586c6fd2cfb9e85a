"""The offline breakdown: messy words into a titled task with steps, by rules. Pure.

- Lines first. A bulleted, numbered or checkbox line is one step as the user wrote it, its
  checkbox kept ("[x]", "✔", "☑" done; "[ ]", "☐" not). A first line ending in ":" above
  more lines, or a plain first line above bulleted ones, is a heading: the title.
- Other lines are split into sentences (not after "Dr.", "Mon.", "e.g." or "3 p.m." when
  the sentence goes on in lower case), a sentence "Goal: a, b, c" (or "Goal — a, b") into a
  heading and its items, and the rest into clauses: at ";", "then", commas between actions
  and "and" before a verb (`verbs`). A comma piece that only goes on with the clause before
  it ("e.g. the blood test", "the fridge and the microwave", one more word after a verb)
  stays with it.
- What is said about feelings, asked of the assistant or only said to fill ("I'm so
  overwhelmed", "ugh", "can you help me break this down?", "it's due friday") is no step.
  "I need to", "I should really", "remember to", "maybe" and the like are dropped from the
  front of a step, so that it is the action.
- The title summarises, in at most `TITLE_SOFT_MAX` characters cut at a word: the heading;
  else a sentence that says what it is about ("the garage is a mess"); else the one step;
  else the first step and how many more ("Buy milk (+2 more)"), never steps joined up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from domain.assistant.breakdown import (
    MAX_STEPS,
    TITLE_SOFT_MAX,
    Breakdown,
    capitalise,
    clean,
    clip,
)
from domain.assistant.verbs import starts_with_verb
from models.task import STEP_CONTENT_MAX

_BULLET = re.compile(
    r"^\s*(?:(?:[-*+\u2022\u2013\u2014]|\d{1,3}[.)]|\(\d{1,3}\)|\(?[a-zA-Z]\))\s+)?"
    r"(?:\[(?P<box>[ xX\u2713\u2714])\]\s*|(?P<glyph>[\u2610\u2611\u2612\u2713\u2714\u2705\u25a1"
    r"\u25fb])\s*)?"
)
_LISTED = re.compile(r"^\s*(?:[-*+\u2022\u2013\u2014]|\d{1,3}[.)]|\(\d{1,3}\)|\[[ xX]\]"
                     r"|[\u2610\u2611\u2612\u2713\u2714\u2705\u25a1\u25fb])\s*")
_DONE_MARKS: Final = frozenset("xX\u2713\u2714\u2611\u2612\u2705")
_INLINE_NUMBER = re.compile(r"(?:^|\s)\(?\d{1,2}[.)]\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*;\s*")
# A full stop after these ends no sentence ("Dr. Smith", "Mon. 12th") ...
_NEVER_ENDS = re.compile(
    r"(?:^|[\s(])(?:[a-z]|mrs?|ms|dr|prof|st|jr|sr|vs|no|fig|approx|appt|mon|tues?|wed|thu"
    r"|thurs?|fri|sat|sun|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.$", re.I)
# ... and after these, only where the sentence goes on in lower case ("at 3 p.m. about").
_ENDS_IF_CAPITAL = re.compile(r"(?:^|[\s(])(?:a\.m|p\.m|e\.g|i\.e|etc|incl)\.$", re.I)
_THEN = re.compile(r"(?:\s*,\s*|\s+)(?:and\s+)?then\s+", re.I)
_COMMA = re.compile(r"\s*,(?!\d)\s*")
_HEADING = re.compile(r"^(?P<head>[^:\u2014]{2,80}?)\s*(?::|\s\u2014|\s--?)\s+(?P<rest>.+)$")
_CONNECTORS = re.compile(
    r"^(?:(?:and|then|also|plus|finally|lastly|next|afterwards|after that|first|second|third"
    r"|maybe|perhaps|probably|oh|so|but|or)\b[\s,:]*)+", re.I)
_WANTS = re.compile(
    r"^(?:(?:i|we)(?:'ll| will)?\s+)?(?:(?:also|really|just|still|probably|definitely|then"
    r"|finally|urgently|seriously|totally)\s+)*(?:(?:need|have|want|got|ought|going)\s+to"
    r"|must|should|gotta|gonna|'d like to|would like to|(?:i'm|i am|we're) going to"
    r"|(?:don't|do not) forget to|remember to|(?:need|have) to remember to|please)\s+",
    re.I)
_NOISE = re.compile(
    r"^(?:i'm|i am|im|i feel|feeling|i've been|ive been|i was|it's|it is|its|this is|that's"
    r"|that is|there's|everything|nothing|ugh+|argh+|omg|oh my|wow|lol|lmao|honestly|tbh"
    r"|idk|sigh|help|hi|hello|hey|thanks|thank you|can you|could you|would you|will you"
    r"|so stressed|so tired|so much|too much|i don't|i dont|i do not|not sure|no idea|anyway"
    r"|ok|okay|well|yeah|yes|no|why|how|what)\b", re.I)
_ATTACHES = re.compile(
    r"^(?:the|a|an|my|your|his|her|our|their|some|any|both|all|e\.g\.?|eg|i\.e\.?|ie|like"
    r"|such as|including|incl\.?|especially|for example|\()\b", re.I)
_GENERIC_HEADINGS: Final = frozenset({"todo", "to do", "to-do", "todos", "tasks", "list",
                                      "my list", "need to", "things to do", "steps", "plan",
                                      "to do list", "todo list", "i need to", "notes"})
_TRIM = " .,;:-*\t"
_QUOTES: Final = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class _Step:
    text: str
    done: bool = False


def offline_breakdown(text: str) -> Breakdown:
    text = text.translate(_QUOTES)
    lines = [line for line in (clean(raw) for raw in text.splitlines()) if line]
    if not lines:
        raise ValueError("there is nothing to break down")
    heading, steps, about = _read(lines, text)
    unique = _unique(steps)[:MAX_STEPS]
    if not unique:  # only feelings or filler: the words themselves are the one step
        unique = [_Step(capitalise(clip(_bare(" ".join(lines)) or " ".join(lines),
                                        STEP_CONTENT_MAX)))]
    title = _title(heading, about, unique)
    return Breakdown(title=title, steps=[s.text for s in unique],
                     done=tuple(s.done for s in unique))


def _read(lines: list[str], text: str) -> tuple[str, list[_Step], str]:
    """The heading, the steps and a sentence saying what it is about."""
    raw_lines = [line for line in text.splitlines() if line.strip()]
    heading = ""
    listed = [bool(_LISTED.match(line)) for line in raw_lines]
    if len(lines) > 1 and not listed[0] and (lines[0].endswith(":") or all(listed[1:])):
        heading, lines, listed = lines[0].rstrip(":").strip(), lines[1:], listed[1:]
    steps: list[_Step] = []
    about = ""
    for line, is_item in zip(lines, listed, strict=True):
        if is_item:
            steps += _item(line)
            continue
        for sentence in _sentences(line):
            found = _HEADING.match(sentence)
            items = _list_items(found["rest"]) if found else []
            if found and len(items) > 1 and len(found["head"].split()) <= 8:
                heading = heading or found["head"]
                steps += [_Step(capitalise(clip(item, STEP_CONTENT_MAX))) for item in items]
                continue
            clauses = _clauses(sentence)
            if not clauses and not about and _is_about(sentence):
                about = sentence
            steps += [_Step(capitalise(clip(c, STEP_CONTENT_MAX))) for c in clauses]
    return heading, steps, about


def _item(line: str) -> list[_Step]:
    marker = _BULLET.match(line)
    box = (marker["box"] or marker["glyph"] or "") if marker else ""
    text = _bare(line[marker.end():] if marker else line)
    return [_Step(capitalise(clip(text, STEP_CONTENT_MAX)), box in _DONE_MARKS)] if text else []


def _bare(text: str) -> str:
    """`text` as an action: no "I need to", "maybe", "and then" in front, no trailing marks."""
    text = text.strip(_TRIM)
    while True:
        stripped = _WANTS.sub("", _CONNECTORS.sub("", text)).strip(_TRIM)
        if stripped == text:
            return text
        text = stripped


def _sentences(line: str) -> list[str]:
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(line):
        previous = sentences[-1] if sentences else ""
        if previous and (_NEVER_ENDS.search(previous) or (
                _ENDS_IF_CAPITAL.search(previous) and not piece[:1].isupper())):
            sentences[-1] = f"{previous} {piece}"
        elif piece.strip(_TRIM):
            sentences.append(piece)
    return sentences


def _list_items(rest: str) -> list[str]:
    """The items after a heading's colon: numbered inline ("1) a 2) b"), or separated by
    commas, ";" or "and"; each a step as written."""
    if len(_INLINE_NUMBER.findall(" " + rest)) > 1:
        parts = _INLINE_NUMBER.split(" " + rest)
    else:
        parts = re.split(r"\s*[,;]\s*(?:and\s+)?|\s+and\s+(?=\S+\s)", rest)
    items: list[str] = []
    for part in parts:
        item = _bare(part)
        if items and _ATTACHES.match(part.strip()) and part.strip().lower().startswith(("e.g",
                                                                                        "i.e")):
            items[-1] = f"{items[-1]}, {part.strip(_TRIM)}"
        elif item:
            items.append(item)
    return items


def _clauses(sentence: str) -> list[str]:
    """The actions of one sentence, in order; none when it only fills or feels."""
    clauses: list[str] = []
    for part in _THEN.split(sentence):
        for piece in _comma_clauses(part):
            clauses += _and_clauses(piece)
    return _with_conditions([c for c in clauses if c])


def _noise(piece: str) -> bool:
    return bool(_NOISE.match(piece)) and not _WANTS.match(piece)


def _comma_clauses(part: str) -> list[str]:
    clauses: list[str] = []
    for raw in _COMMA.split(part):
        piece = raw.strip(_TRIM)
        if not piece or _noise(piece) or _noise(_CONNECTORS.sub("", piece)):
            continue
        if _is_about(piece) and not starts_with_verb(_bare(piece)):
            continue  # "the garage is a mess": what it is about, no step
        action = _bare(piece)
        if clauses and _goes_on(clauses[-1], piece, action):
            clauses[-1] = f"{clauses[-1]}, {piece}"
        elif action:
            clauses.append(action)
    return clauses


def _goes_on(before: str, piece: str, action: str) -> bool:
    """Whether a comma piece only continues the clause before it."""
    if not starts_with_verb(before) or starts_with_verb(action):
        return False
    words = action.split()
    names = piece[:1].isupper() and before.split()[-1][:1].isupper()
    return bool(_ATTACHES.match(piece)) or len(words) == 1 or names


def _and_clauses(clause: str) -> list[str]:
    words = clause.split(" ")
    for index, word in enumerate(words):
        # Two words or more on each side, and a verb right after "and".
        if (word.casefold() == "and" and 2 <= index < len(words) - 1
                and starts_with_verb(" ".join(words[index + 1:]))
                and len(words) - index - 1 >= 2):
            return [" ".join(words[:index]), *_and_clauses(_bare(" ".join(words[index + 1:])))]
    return [clause]


def _with_conditions(clauses: list[str]) -> list[str]:
    """"If it rains" and "take the umbrella" as one clause: a condition is no step alone."""
    merged: list[str] = []
    pending = False
    for clause in clauses:
        if pending:
            merged[-1] = f"{merged[-1]}, {clause}"
            pending = False
        else:
            merged.append(clause)
            pending = clause.split(" ", 1)[0].casefold() in {"if", "when", "whenever", "once",
                                                           "unless", "while"}
    return merged


def _is_about(sentence: str) -> bool:
    """A sentence that says what it is all about ("the garage is a mess"), not a feeling."""
    text = sentence.strip(_TRIM + "!?")
    return bool(re.search(r"\b(?:is|are|was)\b", text)) and not _noise(text) and len(text) > 3


def _unique(steps: list[_Step]) -> list[_Step]:
    seen: set[str] = set()
    kept = []
    for step in steps:
        if step.text and step.text.casefold() not in seen:
            seen.add(step.text.casefold())
            kept.append(step)
    return kept


def _title(heading: str, about: str, steps: list[_Step]) -> str:
    heading = _bare(heading)
    if heading and heading.casefold() not in _GENERIC_HEADINGS:
        return capitalise(clip(heading, TITLE_SOFT_MAX))
    if about:
        return capitalise(clip(about.strip(_TRIM + "!?"), TITLE_SOFT_MAX))
    first = steps[0].text
    if len(steps) == 1:
        return capitalise(clip(first, TITLE_SOFT_MAX))
    more = f" (+{len(steps) - 1} more)"
    return capitalise(clip(first, TITLE_SOFT_MAX - len(more)) + more)
