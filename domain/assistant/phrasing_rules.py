"""The words the offline agent reads (`domain/assistant/phrasing.py` says what they mean).

`normalize` reduces a message to single spaces with the politeness around it gone ("can you
..., please?"); every rule's pattern (built from the parts here) is then matched with
`fullmatch` against that text, case insensitively. `task_refs`, `clean` and `step_numbers`
read the parts a pattern captured.

All patterns are safe on hostile input (a message may be 32,000 characters): none nests a
quantifier inside another that could match the same text two ways, each free-text group
(`.+`, `.+?`) is anchored by a fixed word on one side, so a failed match costs one pass per
group, not one per way to split the text. Nothing here scans with `search` from every
position of a long text; normalizing uses index loops, not end-anchored searches.
"""

from __future__ import annotations

import re
from typing import Final

# How list filters are said: the word -> the list_tasks status.
LIST_STATUSES: Final = {
    "open": "open", "active": "open", "current": "open", "unfinished": "open",
    "incomplete": "open", "remaining": "open", "outstanding": "open", "undone": "open",
    "not done": "open", "completed": "completed", "complete": "completed",
    "done": "completed", "finished": "completed", "closed": "completed", "all": "all",
    "pending": "pending", "not started": "pending", "in progress": "in_progress",
    "in-progress": "in_progress", "started": "in_progress", "ongoing": "in_progress",
    "cancelled": "cancelled", "canceled": "cancelled", "abandoned": "cancelled",
}
# How a task's new status is said: the word -> a settable status, or "open" (reopen it).
SET_STATUSES: Final = {
    "done": "completed", "complete": "completed", "completed": "completed",
    "finished": "completed", "in progress": "in_progress", "in-progress": "in_progress",
    "started": "in_progress", "ongoing": "in_progress", "doing": "in_progress",
    "active": "in_progress", "pending": "pending", "not started": "pending",
    "to do": "pending", "todo": "pending", "on hold": "pending", "waiting": "pending",
    "cancelled": "cancelled", "canceled": "cancelled", "abandoned": "cancelled",
    "open": "open", "not done": "open", "undone": "open", "incomplete": "open",
    "unfinished": "open", "not complete": "open", "not completed": "open",
    "not finished": "open", "reopened": "open",
}


def _words(words: dict[str, str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


LIST_STATUS = f"(?P<status>{_words(LIST_STATUSES)})"
SET_STATUS = f"(?P<status>{_words(SET_STATUSES)})"
ALL = r"(?:(?P<all>all|every) (?:of )?)?"
NOUN = r"(?:tasks|todos|to-?dos|items|(?:task |to-?do )?list)"
WHATS = r"what(?:'?s| is)"
IM = r"(?:i(?:'?m| am)|we(?:'re| are))"
TASK = r"(?P<task>.+)"
# A task named before more words: a quoted title, or the fewest words that let the rest match.
TASK_FIRST = r"""(?P<task>"[^"]+"|'[^']+'|.+?)"""
STEPS = r"steps? (?P<steps>#?\d+(?:(?:, ?|,? and |,? & )#?\d+)*)"
OF = r"(?:of|in|on|for|from)"
DONE = r"(?:done|complete|completed|finished)"
OFF_LIST = r"(?: (?:from|off) (?:my |the )?(?:task |to-?do )?(?:list|tasks))?"
LIST_BARE = _p(rf"{ALL}(?:my )?(?:{LIST_STATUS} )?{NOUN}")  # "my tasks", "all done tasks"

# What a new task's title may carry at its end: "..., with steps: a, b", "... with
# description ...", "... and break it down".
WORD = re.compile(r"\w")
WITH_STEPS = _p(r"(?P<title>.+?),? with (?:the )?steps ?:? (?P<steps>.+)")
WITH_DESCRIPTION = _p(
    r"(?P<title>.+?)(?:,? with (?:the |a )?(?:description|details|notes?)|;? "
    r"(?:description|details|notes?):) (?P<description>.+)"
)
BROKEN_DOWN = _p(r"(?P<title>.+?),? (?:and )?(?:break it down|broken down|split into steps)")

_LEADING = _p(
    r"(?:(?:please|pls|plz|kindly|(?:can|could|would|will) you(?: please)?|i'd like you to"
    r"|i want you to|(?:hi|hey|hello)(?: there)?,|ok(?:ay)?|alright|so|now|also|and|then)"
    r"[ ,]+)+"
)
_TRAILING_WORDS: Final = ("please", "pls", "plz", "thanks", "thank you", "thx")
_TRAILING_MARKS: Final = " .!?,;:-"
_QUOTES: Final = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_REF_PREFIX = _p(
    r"(?:(?:the|my) )?(?:(?:task|todo|to-do|item)s? )?"
    r"(?:(?:called|named|titled) )?(?:(?:number|no\.?) )?"
)
_NUMBER = _p(r"#? ?(\d+)")
_ORDINALS: Final = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                    "eighth", "ninth", "tenth")
_COUNTS: Final = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_SPELLED_NUMBERS: Final = {
    word: n for words in (_ORDINALS, _COUNTS) for n, word in enumerate(words, 1)
}
_SPELLED = _p(
    rf"(?:the )?(?P<ordinal>{'|'.join(_ORDINALS)})(?: (?:task|one))?"
    rf"|(?:task|number) (?P<count>{'|'.join(_COUNTS)})"
)
_SEPARATOR = _p(r",? (?:and|&) |, ?")
_NOT_A_REF: Final = frozenset({"", "task", "tasks", "todo", "item"})
_ITEM_SEPARATOR = _p(r" ?[,;] ?(?:and then |and |then )?")


def normalize(message: str) -> str:
    """Single spaces, straight quotes, no politeness or punctuation around the request."""
    text = " ".join(message.translate(_QUOTES).split())
    lower, end = text.lower(), len(text)
    while True:
        while end > 1 and text[end - 1] in _TRAILING_MARKS:
            end -= 1
        word = next((w for w in _TRAILING_WORDS if _ends_with_word(lower, w, end)), None)
        if word is None:
            break
        end -= len(word)
    lead = _LEADING.match(text, 0, end)
    start = lead.end() if lead and lead.end() < end else 0
    return text[start:end]


def _ends_with_word(lower: str, word: str, end: int) -> bool:
    start = end - len(word)
    return start > 0 and lower.endswith(word, 0, end) and lower[start - 1] in " ,"


def _quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'"


def clean(words: str) -> str:
    """A captured text as the user meant it: trimmed, unquoted, no trailing punctuation."""
    text = words.strip().rstrip(_TRAILING_MARKS)
    return text[1:-1].strip().rstrip(_TRAILING_MARKS) if _quoted(text) else text


def task_ref(words: str) -> str | None:
    """How the user named one task: a list number ("#12", "task 12" -> "12") or title words
    ("the report" -> "report"); None when nothing names a task."""
    text = words.strip().rstrip(_TRAILING_MARKS)
    if _quoted(text):
        return clean(text) or None  # quoted: exactly the title the user wrote
    if spelled := _SPELLED.fullmatch(text):  # "the second one", "task three"
        return str(_SPELLED_NUMBERS[(spelled["ordinal"] or spelled["count"]).lower()])
    prefix = _REF_PREFIX.match(text)
    text = clean(text[prefix.end():] if prefix else text)
    if number := _NUMBER.fullmatch(text):
        return number[1]
    return None if text.lower() in _NOT_A_REF else text


def task_refs(words: str) -> list[str]:
    """One or more tasks: "tasks 1, 2 and 3" names three; titles are never split."""
    parts = [task_ref(part) for part in _SEPARATOR.split(words)]
    if len(parts) > 1 and all(part is not None and part.isdigit() for part in parts):
        return list(dict.fromkeys(part for part in parts if part is not None))
    one = task_ref(words)
    return [] if one is None else [one]


def step_numbers(words: str) -> list[int] | None:
    """The step numbers a pattern's `steps` group holds, each once, in order; None when one
    is too long to be a step's number."""
    numbers = re.findall(r"\d+", words)
    if any(len(number) > 9 for number in numbers):
        return None
    return list(dict.fromkeys(int(number) for number in numbers))


def items(words: str) -> list[str]:
    """A comma- or semicolon-separated list of steps."""
    return [item for item in (clean(part) for part in _ITEM_SEPARATOR.split(words)) if item]
