"""Verbs that start a to-do ("buy milk", "call mum"): where one request holds several tasks
or steps ("pick up the kids and buy flowers"), and what no step is without one.

A short list, not a grammar: a listed verb used as a noun splits wrongly ("buy a phone and
text plan"), an unlisted verb does not split ("buy milk and feed the cat" stays one). Cheap
and predictable, where parsing would not be.
"""

from __future__ import annotations

from typing import Final

TASK_VERBS: Final = frozenset({
    "add", "answer", "apply", "arrange", "ask", "attend", "back", "bake", "bathe", "book",
    "bring", "build", "buy", "call", "cancel", "change", "charge", "check", "choose", "clean",
    "clear", "close", "collect", "confirm", "contact", "cook", "copy", "count", "cut", "decide",
    "defrost", "deliver", "deposit", "design", "do", "download", "draft", "drink", "drop",
    "dust", "eat", "edit", "email", "empty", "fetch", "file", "fill", "find", "finish", "fix",
    "fold", "follow", "get", "give", "go", "grab", "hang", "have", "help", "hire", "hoover",
    "invite", "iron", "join", "learn", "leave", "lock", "look", "mail", "make", "meet",
    "message", "mop", "move", "mow", "notify", "open", "order", "organise", "organize", "pack",
    "paint", "pay", "phone", "pick", "plan", "plant", "post", "prepare", "print", "put", "read",
    "rebook", "record", "refill", "register", "remind", "remove", "renew", "rent", "repair",
    "reply", "research", "reserve", "return", "review", "ring", "run", "save", "schedule",
    "scan", "search", "see", "sell", "send", "set", "shop", "sign", "sort", "speak", "start",
    "stop", "study", "submit", "sweep", "take", "talk", "tell", "test", "text", "throw", "tidy",
    "top", "try", "turn", "unpack", "update", "upload", "vacuum", "visit", "walk", "wash",
    "watch", "water", "wipe", "work", "wrap", "write",
})


def starts_with_verb(text: str) -> bool:
    first = text.strip().split(" ", 1)[0].casefold()
    return first in TASK_VERBS
