"""How the assistant matches the words people type against words it knows: task titles,
step contents and its own command words. Whole words only, never a fragment inside a word
("it" is not in "Write", "all" not in "Call").

Two words match when, compared case-insensitively:

- they are equal, or have the same stem (a plural or verb ending dropped: "taxes" / "tax",
  "called" / "call", "writing" / "write", "groceries" / "grocery"); or
- they are close enough to be a typo of each other (rapidfuzz's optimal string alignment
  distance: an inserted, dropped or changed letter, or two neighbours swapped, counts one):
  words of 5 to 7 letters within 1, words of 8 or more within 2. Words of 3 or 4 letters
  may only have two neighbouring letters swapped ("tirp" / "trip", "dnoe" / "done"): "call"
  / "tall" or "bill" / "pill" are different words, not typos; shorter words must be equal;
  and a word inside the other is never a typo of it ("lumber" / "plumber"); or
- the typed word (4 letters or more) is the start of the known one, at least 2 letters
  longer: an abbreviation ("prep" / "prepare").

A possessive is its word ("emma's" is "emma").

A reference matches a text when every significant word of it (`significant`: not an
article, pronoun, filler or task noun) matches some word of the text: "call mum" is not
"Call the plumber". Among several matches the best is the one matched whole, then by more
words, then by more words exactly; equally good ones are a question, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import OSA

WORD: Final = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Words that never name anything: articles, pronouns, fillers, task nouns.
FILLER: Final = frozenset({
    "a", "an", "the", "my", "our", "your", "his", "her", "their", "this", "that", "these",
    "those", "it", "its", "one", "ones", "some", "any", "of", "to", "for", "on", "in", "at",
    "with", "about", "from", "by", "and", "or", "task", "tasks", "todo", "todos", "item",
    "items", "thing", "things", "list", "step", "steps", "please", "pls", "just", "really",
    "actually", "now", "yet", "already", "again", "also", "still", "so", "very", "bit", "today",
    # Words that say what kind of errand a task is, not which one ("the vet visit").
    "visit", "stuff", "errand", "appointment", "appt",
    "him", "he", "she", "they", "them", "me", "too",
})
_LONG_FILLER: Final = ("item", "items", "list", "step", "steps", "task", "tasks", "thing",
                       "things", "todo", "todos")
EXACT_UP_TO: Final = 4  # letters: shorter words must be equal (or two letters swapped)
ABBREVIATION_MIN: Final = 4  # letters: a shorter start of a word is no abbreviation of it
ONE_EDIT_UP_TO: Final = 7  # letters: longer words may be two edits apart
_SUFFIXES: Final = (("ies", "y"), ("ied", "y"), ("ing", ""), ("es", ""), ("ed", ""),
                    ("s", ""))


def words(text: str) -> list[str]:
    """The words of `text`, lowercased (apostrophes kept inside a word: "mum's")."""
    return [word.casefold() for word in WORD.findall(text)]


def stem(word: str) -> str:
    """`word` without a possessive, a plural or verb ending, and without a final "e"
    ("write" -> "writ", "writing" -> "writ"); a stem keeps at least 3 letters."""
    word = word.removesuffix("'s")
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "stopped" -> "stopp" -> "stop"
    return word


def allowed_edits(word: str) -> int:
    if len(word) <= EXACT_UP_TO:
        return 0
    return 1 if len(word) <= ONE_EDIT_UP_TO else 2


def swapped(typed: str, known: str) -> bool:
    """Whether a short word (3 or 4 letters) is `known` with two neighbours swapped."""
    return (len(typed) == len(known) in (3, 4) and sorted(typed) == sorted(known)
            and OSA.distance(typed, known, score_cutoff=1) == 1)


def abbreviates(typed: str, known: str) -> bool:
    """Whether `typed` (4 letters or more) is the start of a longer word ("prep" /
    "prepare", "info" / "information")."""
    return len(typed) >= ABBREVIATION_MIN and len(known) >= len(typed) + 2 and known.startswith(
        typed)


def same_word(typed: str, known: str) -> bool:
    """Whether `typed` is `known`: equal, the same stem, or a typo of it (module doc)."""
    if typed == known or stem(typed) == stem(known) or swapped(typed, known):
        return True
    if abbreviates(typed, known):
        return True
    if typed in known or known in typed:  # "lumber" is no typo of "plumber": a fragment
        return False
    edits = min(allowed_edits(typed), allowed_edits(known))
    return edits > 0 and OSA.distance(typed, known, score_cutoff=edits) <= edits


def within(typed: str, known: str, edits: int) -> bool:
    """Whether `typed` is at most `edits` edits from `known` (the module's distance)."""
    return OSA.distance(typed, known, score_cutoff=edits) <= edits


def significant(ref: Sequence[str]) -> list[str]:
    """The words of `ref` that name something: not filler, nor a typo of a task noun
    ("lsit" is "list"; "form" stays, though it is "from" swapped)."""
    return [word for word in ref if word not in FILLER and not _filler_typo(word)]


def _filler_typo(word: str) -> bool:
    return len(word) >= 4 and any(
        len(known) >= 4 and (swapped(word, known) or (
            allowed_edits(word) and same_word(word, known))) for known in _LONG_FILLER)


@dataclass(frozen=True)
class Score:
    """How well a reference matches a text: how many of its words matched, how many of
    them exactly (or by stem), and whether the text is exactly the reference."""

    matched: int
    exact: int
    whole: bool

    def key(self) -> tuple[int, int, int]:
        return (int(self.whole), self.matched, self.exact)


def scores(ref: Sequence[str], texts: Iterable[tuple[int, str]]) -> dict[int, Score]:
    """How `ref` (its words) matches each text it matches, by key (module doc).

    Each word of the reference is compared once with each distinct word of all the texts
    (rapidfuzz's `process.extract` for typos, in C), then each text is a few set lookups:
    2,000 titles cost about as much as their distinct words, not 2,000 comparisons each."""
    tokenized = [(key, words(text)) for key, text in texts]
    wanted = significant(ref) or list(ref)
    if not wanted:
        return {}
    vocabulary = sorted({word for _, known in tokenized for word in known})
    by_stem: dict[str, set[str]] = {}
    for word in vocabulary:
        by_stem.setdefault(stem(word), set()).add(word)
    close = {word: _close(word, vocabulary, by_stem) for word in wanted}
    found: dict[int, Score] = {}
    for key, known in tokenized:
        if not known:
            continue
        if list(ref) == known or significant(ref) == significant(known) != []:
            found[key] = Score(len(ref), len(ref), True)
            continue
        present = set(known)
        hits = [close[word] & present for word in wanted]
        if all(hits):
            exact = sum(any(word == other or stem(word) == stem(other) for other in hit)
                        for word, hit in zip(wanted, hits, strict=True))
            found[key] = Score(len(wanted), exact, False)
    return found


def _close(word: str, vocabulary: list[str], by_stem: dict[str, set[str]]) -> set[str]:
    """The words of `vocabulary` that are `word` by `same_word` (`by_stem`: its words by
    their stem)."""
    matched = {word} | by_stem.get(stem(word), set())
    if len(word) >= ABBREVIATION_MIN:
        matched |= {known for known in vocabulary if abbreviates(word, known)}
    edits = allowed_edits(word) or (1 if len(word) in (3, 4) else 0)
    if edits:
        for known, _, _ in process.extract(word, vocabulary, scorer=OSA.distance,
                                           score_cutoff=edits, limit=None):
            if same_word(word, known):
                matched.add(known)
    return matched


def score(ref: Sequence[str], text: str) -> Score | None:
    """How `ref` matches one text, or None when it does not."""
    return scores(ref, [(0, text)]).get(0)


def best(ref: Sequence[str], texts: Iterable[tuple[int, str]]) -> list[int]:
    """The keys of the texts `ref` matches best (several on a tie; none when none match)."""
    found = scores(ref, texts)
    if not found:
        return []
    top = max(value.key() for value in found.values())
    return [key for key, value in found.items() if value.key() == top]


def correct(word: str, vocabulary: Sequence[str]) -> str:
    """`word`, or the vocabulary word it is a typo of ("lsit" -> "list"), by the same rule
    as `same_word`; an ambiguous typo (two words equally close) is left as it is."""
    if word in vocabulary:
        return word
    edits = allowed_edits(word) or (1 if len(word) == 4 else 0)
    if not edits:
        if len(word) != 3:  # a swap is all a 3-letter word may differ by
            return word
        return next((known for known in vocabulary if swapped(word, known)), word)
    found = process.extract(word, vocabulary, scorer=OSA.distance, score_cutoff=edits, limit=2)
    if not found:
        return word
    if len(found) > 1 and found[0][1] == found[1][1] and stem(found[0][0]) != stem(found[1][0]):
        return word
    return str(found[0][0])
