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
import unicodedata
from typing import Final

from domain.assistant import matching
from domain.assistant.references import PRONOUNS, number_of

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
# "the first and second steps": two or more steps by ordinal words (numbers: `STEPS`).
_ORD_WORD = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
ORD_STEPS = rf"(?P<steps>{_ORD_WORD}(?:(?:, ?|,? and |,? & ){_ORD_WORD})+) steps"
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
    r"(?:(?:please|kindly|would you mind|(?:can|could|would|will) you(?: please| kindly| just)?"
    r"|i'd like you to|i want you to|if you could|(?:hi|hey|hello|hiya)"
    r"(?: there)?|good (?:morning|afternoon|evening)|ok(?:ay)?|alright|so|now|also|and|then"
    r"|oh|ah|um+|uh+|er+m?|hm+|right|well|just|actually|btw|by the way|quick one"
    r"|one more thing|oh and|and also|let's|lets|let us|(?:good )?(?:morning|afternoon|evening)"
    r"|great|cool|lovely|nice|perfect|brilliant|awesome|thanks|thank you"
    r"|sorry to bother you(?: but)?|sorry|excuse me|yo|hiya|yeah|yep|basically|wait|no wait"
    r"|wait no|no(?=,)|if (?:it'?s|it is) not too much trouble|i think|i guess"
    r"|i'm (?:going to|about to)|i am (?:going to|about to)"
    # "tell me" before a question is politeness; "tell me about X" is a request.
    r"|(?:please )?tell me(?= (?:what|what's|how|which|whether|if|is|are|do|did)\b))[ ,!:.]+)+"
)
# Longest first: "right now" goes whole, not as "now" leaving "right".
_TRAILING_WORDS: Final = tuple(sorted((
    "please", "thanks", "thank you", "thank you so much", "thanks a lot", "for me", "yay",
    "now", "instead", "if you can", "if you could", "that would be great", "cheers", "lol",
    "asap", "ta", "right now", "at the moment", "finally", "then",
    # "..., add that": the request to add what came before.
    "add that", "add it", "add this", "add that to my list", "add it to my list",
    # Dictated punctuation ("add buy ink period"): a mark said aloud, not title text.
    "period", "full stop", "fullstop", "comma",
), key=len, reverse=True))
_TRAILING_MARKS: Final = " .!?,;:-)(:"
_QUOTES: Final = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# Shorthand and the commonest slips, word for word (typos of longer words: `matching`).
_ALIASES: Final = {
    "ad": "add", "teh": "the", "u": "you", "ur": "your", "r": "are", "pls": "please",
    "plz": "please", "thx": "thanks", "ty": "thanks", "im": "i'm", "ive": "i've",
    "dont": "don't", "whats": "what's", "wats": "what's", "wat": "what", "isnt": "isn't",
    "arent": "aren't", "thats": "that's", "cant": "can't", "didnt": "didn't",
    "havent": "haven't", "hasnt": "hasn't", "todo's": "todos", "to-dos": "todos",
    "2day": "today", "gonna": "going to", "wanna": "want to", "pleas": "please",
    "dun": "done", "w": "with", "w/": "with", "tho": "though", "hows": "how's",
    "wheres": "where's", "theres": "there's", "youre": "you're", "wasnt": "wasn't",
}
# The command words a typo is corrected to, where a command word is expected.
COMMANDS: Final = (
    "add", "create", "new", "task", "tasks", "todo", "todos", "remind", "remember", "mark",
    "complete", "completed", "finish", "finished", "done", "delete", "remove", "erase",
    "show", "list", "find", "search", "rename", "change", "update", "start", "started",
    "begin", "reopen", "cancel", "pause", "step", "steps", "check", "tick", "left", "many",
    "description", "title", "progress", "working", "describe", "everything", "please",
    "thanks", "thank", "uncheck", "what's", "much", "things", "items", "hello", "hey", "how",
    "that's",
)
# Verbs of their own one letter from a command: "kick off" starts a task, never "tick off".
_NOT_TYPOS: Final = frozenset({"kick", "kicking"})
# What "add a ..." adds, when its letters come swapped ("add a stpe to the labels: ...").
_SCRAMBLED: Final = ("step", "steps", "note")
# What a task is marked as ("mark it as dnoe"): corrected where a status is expected.
_STATUS_WORDS: Final = ("done", "complete", "completed", "finished", "started", "pending",
                        "cancelled", "open")
# What is left of a greeting that is no request ("hi there"): the greeting stays whole.
_GREETING_TAILS: Final = frozenset({"there", "again", "you", "all", "everyone", "friend",
                                    "a lot", "so much", "very much"})
_NOUNS: Final = ("tasks", "todos", "list", "items", "things")
_BEFORE_COLON: Final = ("task", "tasks", "todo", "todos", "add", "new", "step", "steps", "note",
                        "reminder")
_SUBJECTS: Final = frozenset({"i", "i've", "i'm", "we"})
_AFTER_QUESTION: Final = frozenset({"what's", "what", "whats"})
_REF_PREFIX = _p(
    r"(?:(?:the|my) )?(?:(?:task|todo|to-do|item)s? )?"
    r"(?:(?:called|named|titled) )?(?:(?:number|no\.?) )?"
)
_NUMBER = _p(r"#? ?(\d+)")
_REMARK = re.compile(r"[,;!?]")
# When something was done, at the end of a reference to it ("rehearsed with tom this morning").
_WHEN = re.compile(r"(?: (?:today|tonight|yesterday|earlier|just now|at last|this (?:morning"
                   r"|afternoon|evening|week)|last (?:night|week)))+$", re.I)
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
    """Single spaces, straight quotes, shorthand spelled out, no politeness or filler
    around the request, and typos of command words corrected where a command is expected."""
    text = " ".join(_unadorned(message.translate(_QUOTES)).split())
    # Shorthand is spelled out in the request, not in what follows a colon: that is the
    # user's own text for a title, a step or a description, kept as typed.
    request, colon, dictated = text.partition(": ")
    text = " ".join(_ALIASES.get(word.casefold(), word) for word in request.split(" "))
    text += colon + dictated
    for _ in range(3):  # filler may come in layers: "hey, could you please ..., thanks!"
        text = _trimmed(text)
    return _corrected(text)


def _unadorned(text: str) -> str:
    """`text` without the emoji and symbols around it ("🏖️ add ...", "... done ✅"): they
    carry feeling, not a request; inside the text they stay (a title may hold one)."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or _adornment(text[start])):
        start += 1
    while end > start and (text[end - 1].isspace() or _adornment(text[end - 1])):
        end -= 1
    return text[start:end]


def _adornment(char: str) -> bool:
    kind = unicodedata.category(char)
    return kind in ("So", "Sk", "Cf", "Mn") or (kind == "Cn" and ord(char) > 0x2000)


def _trimmed(text: str) -> str:
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
    if text[start:end].casefold() in _GREETING_TAILS:
        start = 0
    return text[start:end]


def _corrected(text: str) -> str:
    """Typos corrected in the places a command word goes: the first word, the word after
    "I" / "add" (and the like), after "how many" and "what's", before a colon, and the noun
    after "my". Titles keep their words: only commands are corrected."""
    words = text.split(" ")
    folded = [word.casefold() for word in words]
    spots: dict[int, tuple[str, ...]] = {0: COMMANDS}
    if folded[0] in _SUBJECTS or folded[0] in _AFTER_QUESTION:
        spots[1] = COMMANDS
    if folded[0] == "how" and len(folded) > 2:
        spots[1] = ("many", "much", "far")
        if _correct_word(folded[1], spots[1]) == "many":
            spots[2] = COMMANDS
    if folded[0] == "add" and len(folded) > 2 and folded[1] in ("a", "another", "one"):
        spots[2] = _SCRAMBLED  # "add a stpe to ...": the thing added, letters swapped
    for index, word in enumerate(folded):
        if index and folded[index - 1] == "as":
            spots[index] = _STATUS_WORDS
        if word.endswith(":"):
            spots[index] = _BEFORE_COLON
        if index and folded[index - 1] == "my":
            spots[index] = _NOUNS
    for index, vocabulary in spots.items():
        if index < len(words):
            words[index] = _correct_word(words[index], vocabulary)
    return " ".join(words)


def _correct_word(word: str, vocabulary: tuple[str, ...]) -> str:
    core = word.rstrip(":,.!?")
    if not core or core.casefold() in COMMANDS or core.casefold() in _NOT_TYPOS:
        return word
    if vocabulary is _SCRAMBLED:  # only the same letters reordered: "stew" stays a stew
        fixed = next((known for known in vocabulary
                      if sorted(known) == sorted(core.casefold())), core.casefold())
        return word if fixed == core.casefold() else fixed + word[len(core):]
    if vocabulary is _BEFORE_COLON and len(core) == 3:  # "tsk:" is "task:", a word alone
        fixed = next((known for known in vocabulary
                      if matching.within(core.casefold(), known, 1)), core.casefold())
    else:
        fixed = matching.correct(core.casefold(), vocabulary)
    return word if fixed == core.casefold() else fixed + word[len(core):]


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
    if " ".join(text.casefold().split()) in PRONOUNS and number_of(text) is None:
        return text  # "the one": a pronoun, kept whole ("the last one" is a number)
    if _REMARK.search(text):  # "the X, it's not happening": a remark, not a title (`plan`
        return None  # reads the clause before it)
    if spelled := _SPELLED.fullmatch(text):  # "the second one", "task three"
        return str(_SPELLED_NUMBERS[(spelled["ordinal"] or spelled["count"]).lower()])
    text = _WHEN.sub("", text)  # "the report today": the report (a new title keeps its "today")
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


def ordinal(word: str) -> int:
    """1 for "first" (or "1st"), ..., -1 for "last"."""
    word = word.lower().removeprefix("the ").strip()
    if word == "last":
        return -1
    if word[:1].isdigit():
        return int(re.sub(r"\D", "", word) or 0)
    return _ORDINALS.index(word) + 1


ORDINAL = (r"(?P<ordinal>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last"
           r"|\d{1,3}(?:st|nd|rd|th))")


def step_numbers(words: str) -> list[int] | None:
    """The step numbers a pattern's `steps` group holds, each once, in order; None when one
    is too long to be a step's number."""
    numbers = re.findall(r"\d+", words)
    if any(len(number) > 9 for number in numbers):
        return None
    if not numbers:  # "first and second": ordinal words
        return list(dict.fromkeys(_SPELLED_NUMBERS[word] for word in re.findall(r"[a-z]+", words)
                                  if word in _ORDINALS))
    return list(dict.fromkeys(int(number) for number in numbers))


def items(words: str) -> list[str]:
    """A comma- or semicolon-separated list of steps."""
    return [item for item in (clean(part) for part in _ITEM_SEPARATOR.split(words)) if item]
