"""What the offline agent's rules build (`phrasing`): tool calls from a pattern's named
groups, or a direct reply. A builder answers None to decline (the next rule is tried).

A task is passed on as the user named it: a list number as a string ("12"), a pronoun
("it") or words of its title, never a database id; the tools resolve it
(`references`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from domain.assistant import phrasing_rules as w
from domain.assistant.toolkit import ToolCall
from domain.assistant.verbs import starts_with_verb


@dataclass(frozen=True)
class Plan:
    calls: tuple[ToolCall, ...] = ()
    text: str | None = None  # a direct reply when there are no calls


HELP: Final = (
    "I can keep your task list for you. Try:\n"
    "- add task: buy milk (or: remind me to call mom; add pick up kids and buy flowers)\n"
    "- break down: plan the party, buy food, send invites\n"
    "- list my tasks, show completed tasks, show all tasks, more\n"
    "- find report\n"
    "- show task 2, what's left on the taxes?, how many tasks do I have?\n"
    "- complete task 2, mark the report as done, I bought the milk\n"
    "- start task 2, cancel task 2, reopen task 2\n"
    "- rename task 2 to call mom, change the description of task 2 to ...\n"
    "- add step to task 2: call bob, complete step 1 of task 2, remove step 1 from task 2\n"
    "- delete task 2, mark all as done (I ask before deleting or changing several)\n"
    "- what should I do first?\n"
    "Name a task by its number in the last list I showed you, by words of its title, or "
    "as “it” for the one we just talked about."
)
SHORT_HELP: Final = (
    'Try "add task: buy milk", "list my tasks" or "complete task 2", or say "help" for more.'
)
GREETING: Final = (
    "Hi! I look after your task list: I can add, find, change and complete tasks and their "
    'steps. Say "help" to see how to ask.'
)
THANKS: Final = "You're welcome! Anything else?"
NOT_UNDERSTOOD: Final = "Sorry, I didn't understand that. " + SHORT_HELP
WHICH: Final = "Which task do you mean? Name it, or say “list my tasks” to pick one by number."
NOTHING_WAITING: Final = "There is nothing waiting for a yes. What would you like to do?"
LEFT_ALONE: Final = "OK, nothing changed."
WHAT_TASK: Final = "What should the task say? For example: “add task: buy milk”."
WHAT_TITLE: Final = ("What should the new title be? Say it like this: “rename the report to "
                     "Write the Q3 report”.")

Builder = Callable[[re.Match[str]], Plan | None]
__all__ = ["Plan", "ToolCall"]


def calls(*made: ToolCall) -> Plan | None:
    return Plan(calls=made) if made else None


def reply(text: str) -> Builder:
    def build(_: re.Match[str]) -> Plan:
        return Plan(text=text)

    return build


def each(tool: str, **fixed: Any) -> Builder:
    """One call of `tool` for each task the `task` group names ("tasks 1 and 3": two)."""

    def build(match: re.Match[str]) -> Plan | None:
        refs = w.task_refs(match["task"])
        return calls(*(ToolCall(tool, {"task": ref, **fixed}) for ref in refs))

    return build


def check_off(*, done: bool = True) -> Builder:
    """check_off for each thing named ("X is done", "I bought the milk"): a task by its
    title, else an open step by its content."""

    def build(match: re.Match[str]) -> Plan | None:
        refs = w.task_refs(match["task"])
        extra = {} if done else {"done": False}
        return calls(*(ToolCall("check_off", {"what": ref, **extra}) for ref in refs))

    return build


def check_off_with(group: str, *, as_verb: bool = True) -> Builder:
    """check_off of what the `task` group names, whose own words must include the verb in
    `group` ("checked the forecast": the step "Check the weather forecast"); with `as_verb`
    false, the words of `group` are part of the name ("Biscuit went to the vet")."""

    def build(match: re.Match[str]) -> Plan | None:
        ref = w.task_ref(match["task"])
        extra = w.clean(match[group])
        if ref is None or ref.isdigit() or not extra or "," in extra:
            return None
        if as_verb:
            return calls(ToolCall("check_off", {"what": ref, "verb": extra}))
        return calls(ToolCall("check_off", {"what": f"{extra} {ref}"}))

    return build


BY_STATUS: Final = {
    "completed": check_off(),
    "open": each("reopen_task"),
    **{s: each("set_status", status=s) for s in ("pending", "in_progress", "cancelled")},
}


def set_status(match: re.Match[str]) -> Plan | None:
    return BY_STATUS[w.SET_STATUSES[match["status"].lower()]](match)


def list_arguments(match: re.Match[str]) -> dict[str, Any]:
    groups = match.groupdict()
    if groups.get("status"):
        return {"status": w.LIST_STATUSES[groups["status"].lower()]}
    return {"status": "all"} if groups.get("all") else {}


def listed(**fixed: Any) -> Builder:
    def build(match: re.Match[str]) -> Plan | None:
        return calls(ToolCall("list_tasks", {**list_arguments(match), **fixed}))

    return build


def search(match: re.Match[str]) -> Plan | None:
    if listing := w.LIST_BARE.fullmatch(match["query"]):  # "find all done tasks": a plain list
        arguments = {**list_arguments(match), **list_arguments(listing)}
        return calls(ToolCall("list_tasks", arguments))
    query = w.task_ref(match["query"])
    if query is None or query.isdigit():
        return None
    return calls(ToolCall("list_tasks", {**list_arguments(match), "search": query}))


_AND = re.compile(r" ?[,;] ?(?:and then |and also |and |then |also )?(?:to )?"
                  r"| and (?:then |also )?(?:to )?", re.I)


def several(title: str, *, listed_out: bool) -> list[str]:
    """The tasks one title names: each item of a list ("tasks: a, b and c"), quoted titles
    joined by "and", or clauses that each start with a verb ("pick up the kids and buy
    flowers"); else the one title ("buy salt and pepper")."""
    quoted = re.findall(r"""["']([^"']+)["']""", title)
    if len(quoted) > 1 and not re.sub(r"""["'][^"']+["']|,|;|\band\b|\s""", "", title):
        return [w.clean(item) for item in quoted]
    items = [item for item in (w.clean(part) for part in _AND.split(title)) if item]
    if listed_out and len(items) > 1:
        return items
    if len(items) > 1 and all(starts_with_verb(item) and " " in item for item in items[1:]):
        return items
    return [w.clean(title)]


def create(match: re.Match[str]) -> Plan | None:
    """create_task, reading "... with steps: a, b", "... with description ..." and
    "... and break it down" off the end of the title; several tasks when it lists several."""
    title = match["title"]
    arguments: dict[str, Any] = {}
    if split := w.WITH_STEPS.fullmatch(title):
        title, arguments["steps"] = split["title"], w.items(split["steps"])
    if split := w.WITH_DESCRIPTION.fullmatch(title):
        title, arguments["description"] = split["title"], w.clean(split["description"])
    if split := w.BROKEN_DOWN.fullmatch(title):
        title, arguments["break_down"] = split["title"], True
    given = {name: value for name, value in arguments.items() if value}
    plural = (match.groupdict().get("kind") or "").lower() in ("tasks", "todos", "items")
    titles = [w.clean(title)] if given else several(title, listed_out=plural)
    titles = [t for t in titles if w.WORD.search(t)]
    return calls(*(ToolCall("create_task", {"title": t, **given}) for t in titles))


def break_down(match: re.Match[str]) -> Plan | None:
    title = w.clean(match["title"])
    if not w.WORD.search(title):
        return None
    return calls(ToolCall("create_task", {"title": title, "break_down": True}))


def add_step(match: re.Match[str]) -> Plan | None:
    ref, content = w.task_ref(match["task"]), match["content"]
    several_ = (match.groupdict().get("kind") or "").lower() in ("steps", "things", "items")
    contents = w.items(content) if several_ else [w.clean(content)]
    if ref is None:
        return None
    return calls(*(ToolCall("add_step", {"task": ref, "content": c}) for c in contents if c))


_INTO = re.compile(r" (?:to|on|onto|in|into|under) ", re.I)
_TO = re.compile(r" (?:to|onto|into) ", re.I)


def add_steps(match: re.Match[str]) -> Plan | None:
    """add_step for each step `content` lists ("sort the cake stall and find volunteers")."""
    ref = w.task_ref(match["task"])
    if ref is None:
        return None
    return calls(*(ToolCall("add_step", {"task": ref, "content": item})
                   for item in several(match["content"], listed_out=False)))


_COUNT_WORDS: Final = {"two": 2, "three": 3, "four": 4, "five": 5}


def first_steps(match: re.Match[str]) -> Plan | None:
    """complete_step for steps 1..n ("tick off the first 2 on the shopping")."""
    ref, count = w.task_ref(match["task"]), match["count"].lower()
    if ref is None:
        return None
    n = int(count) if count.isdigit() else _COUNT_WORDS[count]
    return calls(*(ToolCall("complete_step", {"task": ref, "step": k}) for k in range(1, n + 1)))


def add_step_to_named(match: re.Match[str]) -> Plan | None:
    """add_step for "add <content> to the <task> task": split at the last "to" (one split,
    not a pattern of two free texts, whose matching would take time quadratic in the text)."""
    rest = match["rest"]
    last = next(reversed(list(_INTO.finditer(rest))), None)
    if last is None:
        return None
    content, ref = w.clean(rest[: last.start()]), w.task_ref(rest[last.end():])
    if ref is None or not content:
        return None
    return calls(ToolCall("add_step", {"task": ref, "content": content}))


# Verbs whose "to" is their own ("go to the bank", "send the form to Sam"): "add <verb> ...
# to X" is then a new task, not a step of X.
_TO_VERBS: Final = frozenset({
    "add", "apply", "ask", "attach", "bring", "change", "commit", "complain", "convert",
    "cycle", "deliver", "donate", "drive", "drop", "email", "explain", "fly", "forward", "get",
    "give", "go", "hand", "head", "introduce", "invite", "lend", "link", "listen", "mail",
    "move", "nip", "pay", "point", "pop", "post", "put", "reach", "refer", "reply", "report",
    "respond", "return", "ride", "run", "say", "sell", "send", "ship", "show", "speak",
    "stick", "submit", "switch", "take", "talk", "tell", "text", "transfer", "travel", "turn",
    "upgrade", "upload", "walk", "wave", "write",
})


def add_to(match: re.Match[str]) -> Plan | None:
    """"add X to Y": steps X (several when they each start with a verb) of the task Y, or, if
    no task is Y, the new task "X to Y"; a new task at once when X's verb takes the "to"."""
    rest = match["rest"]
    last = next(reversed(list(_TO.finditer(rest))), None)
    if last is None:
        return None
    content, target = rest[: last.start()], rest[last.end():]
    ref = w.task_ref(target)
    first = content.strip().split(" ", 1)[0].casefold()
    if (ref is None or ref.isdigit() or first in _TO_VERBS or not w.WORD.search(content)
            or ":" in rest):  # "add a note to X: ...": the rules for notes and steps
        return None
    title = w.clean(rest)
    return calls(*(ToolCall("add_step", {"task": ref, "content": item, "or_new_task": title})
                   for item in several(content, listed_out=False)))


def step(tool: str, *, last_first: bool = False, **fixed: Any) -> Builder:
    """complete_step / remove_step for each step named: numbers ("steps 1 and 3"), an
    ordinal (`ordinal`: "the second", "the last") or words of its content (`words`).
    Removals go from the last one, so the numbers the user read stay right."""

    def build(match: re.Match[str]) -> Plan | None:
        ref = w.task_ref(match["task"])
        groups = match.groupdict()
        if groups.get("steps"):
            numbers = w.step_numbers(groups["steps"])
            if numbers is None:  # not a step's number: say so, never guess
                return Plan(text=NOT_UNDERSTOOD)
            named: list[Any] = sorted(numbers, reverse=True) if last_first else numbers
        elif groups.get("ordinal"):
            number = w.ordinal(groups["ordinal"])
            named = ["last" if number == -1 else number]
        else:
            named = [w.clean(groups["words"])]
        if ref is None or not all(named):
            return None
        return calls(*(ToolCall(tool, {"task": ref, "step": n, **fixed}) for n in named))

    return build


def lone_step(tool: str) -> Builder:
    """`tool` for a step named by its words alone: the task reference is those words too,
    and the action, finding no task by them, takes the one open step they match."""

    def build(match: re.Match[str]) -> Plan | None:
        words = w.clean(match["words"])
        if not w.WORD.search(words) or w.task_ref(words) is None:
            return None
        return calls(ToolCall(tool, {"task": words, "step": words}))

    return build


def update(field: str) -> Builder:
    """update_task setting `field` (title or description) from the group of that name."""

    def build(match: re.Match[str]) -> Plan | None:
        ref, value = w.task_ref(match["task"]), w.clean(match[field])
        if ref is None or not value:
            return None
        return calls(ToolCall("update_task", {"task": ref, field: value}))

    return build


def asked(tool: str, **fixed: Any) -> Builder:
    """A question about one task (`task` group), or none (no group)."""

    def build(match: re.Match[str]) -> Plan | None:
        if "task" not in match.groupdict():
            return calls(ToolCall(tool, dict(fixed)))
        ref = w.task_ref(match["task"])
        return None if ref is None else calls(ToolCall(tool, {"task": ref, **fixed}))

    return build


def counted(match: re.Match[str]) -> Plan | None:
    groups = match.groupdict()
    status = "all"
    if groups.get("done"):
        status = "completed"
    elif groups.get("left"):
        status = "open"
    elif groups.get("status"):
        status = w.LIST_STATUSES[groups["status"].lower()]
    return calls(ToolCall("count_tasks", {"status": status}))


BULK_BY_WORD: Final = {
    "complete": "complete", "finish": "complete", "done": "complete", "check off": "complete",
    "tick off": "complete", "close": "complete", "completed": "complete",
    "finished": "complete", "delete": "delete", "remove": "delete", "erase": "delete",
    "clear": "delete", "trash": "delete", "get rid of": "delete", "wipe": "delete",
    "nuke": "delete", "clear out": "delete",
    "cancel": "cancel", "drop": "cancel", "abandon": "cancel", "cancelled": "cancel",
    "start": "start", "in progress": "start", "started": "start", "reopen": "reopen",
    "open": "reopen",
    "pause": "pause", "pending": "pause", "not started": "pause",
}


def bulk_two(match: re.Match[str]) -> Plan | None:
    """One change to the tasks of two statuses ("clear out everything finished or
    cancelled"): a change_tasks call for each."""
    action = BULK_BY_WORD[match["verb"].lower()]
    statuses = dict.fromkeys(w.LIST_STATUSES[match[g].lower()] for g in ("status", "other"))
    return calls(*(ToolCall("change_tasks", {"action": action, "status": s}) for s in statuses))


def bulk(match: re.Match[str]) -> Plan | None:
    """change_tasks: one change to all tasks (of a status), or all about some words."""
    groups = match.groupdict()
    action = BULK_BY_WORD[(groups.get("verb") or groups.get("to") or "").lower()]
    arguments: dict[str, Any] = {"action": action}
    if groups.get("about"):
        about = w.task_ref(groups["about"])
        if about is None:
            return None
        arguments["about"] = about
    elif groups.get("status"):
        arguments["status"] = w.LIST_STATUSES[groups["status"].lower()]
    return calls(ToolCall("change_tasks", arguments))
