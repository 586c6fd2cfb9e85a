"""Asking before harm: which changes wait for a yes, the action kept waiting with the
conversation, and reading a yes or a no.

The rule: a delete (a task or a step), a cancel, and any change that would write more than
one existing task (a bulk change, or several changes in one message) are proposed first and
done only after a yes in the very next message. The proposal is stored with the
conversation (`conversations.pending_action`) with the resolved ids, so the yes does exactly
what was proposed, and it expires (ASSISTANT_CONFIRMATION_SECONDS). A no drops it; so does
any other message, which is then read as a message of its own. An unclear reference leaves
a pending question of another kind ("clarify"): the next message may answer it with a
number or words naming one of the candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from domain.assistant.toolkit import ToolCall

CONFIRM: Final = "confirm"
CLARIFY: Final = "clarify"
DESTRUCTIVE_TOOLS: Final = frozenset({"delete_task", "remove_step", "change_tasks"})
READ_TOOLS: Final = frozenset({"list_tasks", "show_task", "count_tasks", "task_progress",
                               "suggest_next"})
_YES_FIRST: Final = frozenset({
    "yes", "y", "yeah", "yea", "yep", "yup", "ya", "yas", "yess", "yesss", "sure", "ok", "okay",
    "k", "kk", "confirm", "confirmed", "go", "do", "absolutely", "definitely", "correct",
    "right", "fine", "alright", "affirmative", "please", "proceed", "certainly", "indeed",
})
_YES_WORDS: Final = _YES_FIRST | frozenset({
    "ahead", "it", "for", "that", "them", "all", "delete", "remove", "cancel", "just", "thanks",
    "thank", "you", "of", "course", "sounds", "good", "great", "please", "mark", "so", "is",
    "do", "the", "go", "lgtm", "pls", "plz", "thx",
})
_NO_FIRST: Final = frozenset({
    "no", "nope", "nah", "n", "nay", "nevermind", "never", "don't", "dont", "stop", "wait",
    "cancel", "abort", "actually", "oops", "hold", "keep", "leave", "forget", "not", "nothing",
})
_NO_WORDS: Final = _NO_FIRST | frozenset({
    "thanks", "thank", "you", "mind", "it", "that", "them", "do", "now", "i", "changed", "my",
    "on", "way", "one", "wrong", "sorry", "please", "the", "yet", "no", "thx", "all", "alone",
    "as", "is", "don't", "want", "to",
})
_PUNCTUATION = re.compile(r"[^\w\s']+")


def destructive(tool: str, args: dict[str, Any]) -> bool:
    return tool in DESTRUCTIVE_TOOLS or (tool == "set_status" and args.get("status") == "cancelled")


def changes_data(tool: str) -> bool:
    return tool not in READ_TOOLS


def answer_of(message: str) -> Literal["yes", "no"] | None:
    """"yes" or "no" when the whole message is one ("yep, go ahead", "no thanks"), else None."""
    text = " ".join(_PUNCTUATION.sub(" ", message.casefold()).split())
    words = text.split()
    if not words:
        return None
    if words[0] in _YES_FIRST and len(words) <= 6 and all(w in _YES_WORDS for w in words):
        return "yes"
    if words[0] in _NO_FIRST and len(words) <= 8 and all(w in _NO_WORDS for w in words):
        return "no" if words != ["actually"] else None
    return None


@dataclass(frozen=True)
class Pending:
    """An action waiting for the next message: a proposal to confirm, or a call waiting
    for the user to say which candidate they meant."""

    kind: str
    calls: tuple[ToolCall, ...]
    expires_at: datetime
    candidates: tuple[int, ...] = field(default=())

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "expires_at": self.expires_at.isoformat(),
                "calls": [{"tool": c.name, "args": c.arguments} for c in self.calls],
                "candidates": list(self.candidates)}

    @classmethod
    def from_json(cls, stored: dict[str, Any] | None) -> Pending | None:
        if not stored:
            return None
        return cls(str(stored["kind"]),
                   tuple(ToolCall(str(c["tool"]), dict(c["args"])) for c in stored["calls"]),
                   datetime.fromisoformat(str(stored["expires_at"])),
                   tuple(int(key) for key in stored.get("candidates") or ()))


def pending(kind: str, calls: list[ToolCall], *, now: datetime, seconds: float,
            candidates: tuple[int, ...] = ()) -> Pending:
    return Pending(kind, tuple(calls), now + timedelta(seconds=seconds), candidates)


def question(proposals: list[str], problems: list[str]) -> str:
    """The proposal as the user reads it."""
    lines = [*problems]
    if len(proposals) == 1:
        lines.append(f"Do you want me to {proposals[0]}?")
    else:
        lines.append("Do you want me to do all of this?")
        lines += [f"- {text}" for text in proposals]
    lines.append("Say “yes” to go ahead; anything else leaves everything as it is.")
    return "\n".join(lines)


NOTHING_WAITING: Final = "There is nothing waiting for a yes. What would you like to do?"
DECLINED: Final = "OK, I left everything as it was."
EXPIRED: Final = ("That request expired, so I didn't do it; nothing was changed. Ask again if "
                  "you still want it.")
