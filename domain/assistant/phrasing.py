"""The offline agent's understanding of a message: the tool calls a model would make for it.

`plan` reads an everyday request ("mark the report as done", "complete tasks 1 and 3") as
calls of the chat's tools, with the argument names the tools declare, or answers directly
when no tool is needed (a greeting, help, or words it does not understand). Pure: no I/O.

The rules are a table of (pattern, builder), tried in order; the first pattern that matches
the whole normalized message and whose builder accepts the match wins. More specific rules
come first ("complete step 1 of task 2" before "complete <task>"). A task is passed on as the
user named it: a list number as a string ("12") or words of its title, never a database id.
The words themselves (patterns' parts, status words, reading a reference) live in
`phrasing_rules`, imported here as `w`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from domain.assistant import phrasing_rules as w


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    calls: tuple[ToolCall, ...] = ()
    text: str | None = None  # a direct reply when there are no calls


HELP: Final = (
    "I can keep your task list for you. Try:\n"
    "- add task: buy milk (or: remind me to call mom)\n"
    "- break down: plan the party, buy food, send invites\n"
    "- list my tasks, show completed tasks, show all tasks, more\n"
    "- find report\n"
    "- show task 2\n"
    "- complete task 2, mark the report as done, complete tasks 1 and 3\n"
    "- start task 2, cancel task 2, reopen task 2\n"
    "- rename task 2 to call mom, change the description of task 2 to ...\n"
    "- add step to task 2: call bob, complete step 1 of task 2, remove step 1 from task 2\n"
    "- delete task 2\n"
    "Name a task by its number in the last list I showed you, or by words of its title."
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

Builder = Callable[[re.Match[str]], Plan | None]


def plan(message: str) -> Plan:
    """The tool calls for `message`, or a direct reply."""
    text = w.normalize(message)
    for pattern, build in _RULES:
        if (match := pattern.fullmatch(text)) and (planned := build(match)) is not None:
            return planned
    return Plan(text=NOT_UNDERSTOOD)


# Builders: each reads a match's named groups; None declines (the next rule is tried).


def _calls(*calls: ToolCall) -> Plan | None:
    return Plan(calls=calls) if calls else None


def _reply(text: str) -> Builder:
    def build(_: re.Match[str]) -> Plan:
        return Plan(text=text)

    return build


def _each(tool: str, **fixed: Any) -> Builder:
    """One call of `tool` for each task the `task` group names ("tasks 1 and 3": two)."""

    def build(match: re.Match[str]) -> Plan | None:
        refs = w.task_refs(match["task"])
        return _calls(*(ToolCall(tool, {"task": ref, **fixed}) for ref in refs))

    return build


_BY_STATUS: Final = {
    "completed": _each("complete_task"),
    "open": _each("reopen_task"),
    **{s: _each("set_status", status=s) for s in ("pending", "in_progress", "cancelled")},
}


def _set_status(match: re.Match[str]) -> Plan | None:
    return _BY_STATUS[w.SET_STATUSES[match["status"].lower()]](match)


def _list_arguments(match: re.Match[str]) -> dict[str, Any]:
    groups = match.groupdict()
    if groups.get("status"):
        return {"status": w.LIST_STATUSES[groups["status"].lower()]}
    return {"status": "all"} if groups.get("all") else {}


def _list(match: re.Match[str]) -> Plan | None:
    return _calls(ToolCall("list_tasks", _list_arguments(match)))


def _finished(_: re.Match[str]) -> Plan | None:
    return _calls(ToolCall("list_tasks", {"status": "completed"}))


def _more(_: re.Match[str]) -> Plan | None:
    return _calls(ToolCall("list_tasks", {"more": True}))


def _search(match: re.Match[str]) -> Plan | None:
    if listing := w.LIST_BARE.fullmatch(match["query"]):  # "find all done tasks": a plain list
        arguments = {**_list_arguments(match), **_list_arguments(listing)}
        return _calls(ToolCall("list_tasks", arguments))
    query = w.task_ref(match["query"])
    if query is None:
        return None
    return _calls(ToolCall("list_tasks", {**_list_arguments(match), "search": query}))


def _create(match: re.Match[str]) -> Plan | None:
    """create_task, reading "... with steps: a, b", "... with description ..." and
    "... and break it down" off the end of the title."""
    title = match["title"]
    arguments: dict[str, Any] = {}
    if split := w.WITH_STEPS.fullmatch(title):
        title, arguments["steps"] = split["title"], w.items(split["steps"])
    if split := w.WITH_DESCRIPTION.fullmatch(title):
        title, arguments["description"] = split["title"], w.clean(split["description"])
    if split := w.BROKEN_DOWN.fullmatch(title):
        title, arguments["break_down"] = split["title"], True
    title = w.clean(title)
    if not w.WORD.search(title):
        return None
    given = {name: value for name, value in arguments.items() if value}
    return _calls(ToolCall("create_task", {"title": title, **given}))


def _break_down(match: re.Match[str]) -> Plan | None:
    title = w.clean(match["title"])
    if not w.WORD.search(title):
        return None
    return _calls(ToolCall("create_task", {"title": title, "break_down": True}))


def _add_step(match: re.Match[str]) -> Plan | None:
    ref, content = w.task_ref(match["task"]), match["content"]
    several = (match.groupdict().get("kind") or "").lower() == "steps"
    contents = w.items(content) if several else [w.clean(content)]
    if ref is None:
        return None
    return _calls(*(ToolCall("add_step", {"task": ref, "content": c}) for c in contents if c))


def _step(tool: str, *, last_first: bool = False) -> Builder:
    """complete_step / remove_step for each step number; removals go from the last one, so
    the numbers the user read stay right while the steps before them shift."""

    def build(match: re.Match[str]) -> Plan | None:
        ref, numbers = w.task_ref(match["task"]), w.step_numbers(match["steps"])
        if ref is None or numbers is None:  # not a step's number: say so, never guess
            return Plan(text=NOT_UNDERSTOOD)
        ordered = sorted(numbers, reverse=True) if last_first else numbers
        return _calls(*(ToolCall(tool, {"task": ref, "step": n}) for n in ordered))

    return build


def _update(field: str) -> Builder:
    """update_task setting `field` (title or description) from the group of that name."""

    def build(match: re.Match[str]) -> Plan | None:
        ref, value = w.task_ref(match["task"]), w.clean(match[field])
        if ref is None or not value:
            return None
        return _calls(ToolCall("update_task", {"task": ref, field: value}))

    return build


_TABLE: tuple[tuple[str, Builder], ...] = (
    # Talk: no tool needed.
    (r"help(?: me)?|\?+|what can you do|what (?:else )?can (?:i|you) (?:say|ask|do)"
     r"|what do you do|how does this work|how do i use (?:this|you)|commands", _reply(HELP)),
    (r"(?:hi|hello|hey|hiya|howdy|heya|yo|greetings|good (?:morning|afternoon|evening|day))"
     r"(?: (?:there|again|you|friend|all|everyone))?(?:,? how are you(?: doing)?)?"
     r"|how are you(?: doing)?|how's it going", _reply(GREETING)),
    (r"(?:thanks|thank you|thx|cheers|great|perfect|awesome|cool|nice|ok|okay|got it)"
     r"(?: (?:so much|very much|a lot|again))?", _reply(THANKS)),
    # Lists, pages, searches.
    (r"(?:(?:show|see|list|give|display)(?: me)? )?(?:the )?(?:more|next|rest)"
     r"(?: (?:page|one|ones|tasks|items|of them|of my tasks))?|(?:next|more) page"
     r"|continue|keep going|go on", _more),
    (rf"(?:list|show|view|display|see|give)(?: me)?"
     rf"(?: {w.ALL}(?:(?:my|the) )?(?:{w.LIST_STATUS}(?: {w.NOUN})?|{w.NOUN}))?", _list),
    (rf"what(?: are|'re| r)? {w.ALL}(?:my|the) (?:{w.LIST_STATUS} )?{w.NOUN}", _list),
    (rf"(?:what|which) (?:{w.LIST_STATUS} )?(?:tasks|todos|to-?dos) (?:do i (?:still )?have"
     r"|have i got|are there|are left|are open|remain|are on my list)", _list),
    (rf"{w.WHATS} (?:on|in) (?:my|the) (?:task |to-?do )?list|what do i (?:still )?(?:have|need)"
     rf" to do|{w.WHATS} (?:left|remaining)(?: to do)?|what(?: else)? is there to do"
     r"|what should i do(?: next)?", _list),
    (w.LIST_BARE.pattern, _list),
    (r"what (?:have|did) (?:i|we) (?:already )?(?:finish|finished|complete|completed|do|done"
     r"|get done|got done|accomplish|accomplished|check off|checked off)"
     rf"(?: so far| today| already| yet)?|{w.WHATS} (?:been )?{w.DONE}(?: so far)?"
     rf"|(?:show|list)(?: me)? what i(?:'ve| have)? {w.DONE}", _finished),
    (rf"(?:search|find|look(?: for| up)?) (?:(?:in|through) )?{w.ALL}(?:(?:my|the) )?"
     rf"(?:{w.LIST_STATUS} )?(?:(?:tasks?|todos|items) )?(?:(?:for|about|with|containing"
     r"|matching|mentioning|called|named|titled) )?(?P<query>.+)", _search),
    # Steps, before the task rules whose verbs they share.
    (rf"add (?:a |an |another |the )?(?:new )?(?P<kind>steps?) (?:to|for|in|on) {w.TASK_FIRST}"
     r" ?[:\-] (?P<content>.+)", _add_step),
    (rf"add to {w.TASK_FIRST} ?: (?P<content>.+)", _add_step),
    (r"add (?:a |an |another |the )?(?:new )?(?P<kind>steps?)(?: called| named| saying)?:? "
     rf"(?P<content>.+) (?:to|for|in|on) {w.TASK}", _add_step),
    (r"add (?P<content>.+) as (?:a |an |another )?(?:new )?(?P<kind>steps?) "
     rf"(?:to|for|in|on|of) {w.TASK}", _add_step),
    (r"(?:(?:i|we)(?:'ve| have)?(?: just)? )?(?:complete|completed|finish|finished|check"
     r"(?: off)?|checked(?: off)?|tick(?: off)?|ticked(?: off)?|cross(?: off)?|mark"
     rf"|done(?: with)?|did|do) (?:the )?{w.STEPS} {w.OF} {w.TASK_FIRST}(?: off)?"
     rf"(?: (?:as )?{w.DONE})?", _step("complete_step")),
    (rf"(?:the )?{w.STEPS} {w.OF} {w.TASK_FIRST} (?:is |are )?(?:now )?{w.DONE}",
     _step("complete_step")),
    (rf"(?:remove|delete|drop|erase|cut|get rid of) (?:the )?{w.STEPS} {w.OF} {w.TASK}",
     _step("remove_step", last_first=True)),
    # New tasks.
    (r"(?:break(?: it)? down|breakdown|split up|plan out)(?: ?[:\-] ?| )(?P<title>.+)",
     _break_down),
    (r"(?:(?:add|create|make|set up)(?: me)?(?: a| an| another| one more)?(?: new)?|new"
     r"|start (?:a )?new) (?:task|todo|to-do|to do|item|reminder)(?: (?:called|named"
     r"|titled|saying|to|for|about))?(?: ?[:\-] ?| )(?P<title>.+)", _create),
    (r"remind me (?:to |about |that (?:i (?:need|have) to )?)?(?P<title>.+)", _create),
    (r"(?:add|put|write|jot|note|stick)(?: down)? (?P<title>.+) (?:to|on|onto|in) (?:my |the )?"
     r"(?:task |to-?do )?(?:list|tasks|todos)", _create),
    # Titles and descriptions.
    (rf"(?:change|set|update|edit|replace|modify|add)(?: the| a)? (?:description|details"
     rf"|notes?|desc) (?:of|for|on|to) {w.TASK_FIRST}(?: to| as| with|:) (?P<description>.+)",
     _update("description")),
    (rf"(?:change|set|update|edit|modify) {w.TASK_FIRST}(?:'s|s')? (?:description|details"
     r"|notes?|desc)(?: to| as| with|:)? (?P<description>.+)", _update("description")),
    (rf"describe {w.TASK_FIRST} as (?P<description>.+)", _update("description")),
    (rf"(?:change|set|update|edit|modify)(?: the)? (?:title|name) (?:of|for) {w.TASK_FIRST}"
     r"(?: to| as|:) (?P<title>.+)", _update("title")),
    (rf"(?:change|set|update|edit|modify) {w.TASK_FIRST}(?:'s|s')? (?:title|name)(?: to| as|:)?"
     r" (?P<title>.+)", _update("title")),
    (rf"(?:rename|retitle) {w.TASK_FIRST}(?: to| as|:) (?P<title>.+)", _update("title")),
    # Statuses.
    (rf"(?:mark|set|change|move|put|switch|update|make) (?:the )?(?:status of )?{w.TASK_FIRST}"
     rf"(?:'s status| status)?(?: as| to| in| into| on|:)? {w.SET_STATUS}", _set_status),
    (rf"(?:check|tick|cross|mark) {w.TASK_FIRST} off(?: (?:my |the )?(?:task |to-?do )?list)?",
     _each("complete_task")),
    (r"(?:complete|completed|finish|finished|done(?: with)?|close|check off|checked off"
     r"|tick off|ticked off|cross off|crossed off|mark off|accomplished|wrap up|wrapped up)"
     rf" {w.TASK}", _each("complete_task")),
    (r"(?:i|we)(?:'ve| have| just| already| finally)* (?:finished|completed|done|did"
     rf"|accomplished|wrapped up|checked off|ticked off|crossed off)(?: with)? {w.TASK}",
     _each("complete_task")),
    (rf"{w.IM}(?: all| now)? (?:done|finished|through) with {w.TASK}", _each("complete_task")),
    (r"(?:reopen|re-open|uncomplete|un-complete|unfinish|uncheck|untick|unmark|restore"
     rf"|bring back) {w.TASK}", _each("reopen_task")),
    (rf"open {w.TASK_FIRST} (?:up )?again", _each("reopen_task")),
    (r"(?:start|begin|resume|restart|continue|pick up|work on|get started on|get going on"
     rf"|kick off)(?: working on| work on| on| with)? {w.TASK}", _BY_STATUS["in_progress"]),
    (rf"{w.IM}(?: now| currently| still)? (?:working on|doing|starting|on|busy with|tackling"
     rf"|started) {w.TASK}", _BY_STATUS["in_progress"]),
    (rf"(?:now )?working on {w.TASK}", _BY_STATUS["in_progress"]),
    (r"(?:i|we)(?:'ve| have| just)* (?:started|begun|began|picked up)(?: working on| on)?"
     rf" {w.TASK}", _BY_STATUS["in_progress"]),
    (r"(?:cancel|abandon|scrap|drop|give up on|never mind|nevermind|forget about|skip)"
     rf" {w.TASK}", _BY_STATUS["cancelled"]),
    (rf"(?:pause|stop working on|put off|postpone|defer|hold off on) {w.TASK}",
     _BY_STATUS["pending"]),
    (rf"(?:update|change|edit|modify) {w.TASK_FIRST}(?: to say| so it says| ?:| to| into)"
     r" (?P<title>.+)", _update("title")),
    (r"(?:delete|remove|erase|trash|get rid of|throw away|throw out|bin|discard|destroy)"
     rf" {w.TASK_FIRST}{w.OFF_LIST}", _each("delete_task")),
    # Looking at one task.
    (r"(?:show|view|display|open|see|describe|read)(?: me)?(?: (?:the )?(?:details|steps"
     rf"|contents?) (?:of|for|in|on))? {w.TASK}", _each("show_task")),
    (rf"(?:{w.WHATS} (?:in|inside|on|under|the status of)|what are the steps (?:of|in|for|on)"
     r"|tell me (?:more )?about|(?:the )?(?:details|steps) (?:of|for|on|in)"
     rf"|(?:more )?info(?:rmation)? (?:on|about)) {w.TASK}", _each("show_task")),
    (r"(?:task ?#?|#)(?P<task>\d+)", _each("show_task")),
    # Last: rules that start with free text or a bare verb.
    (rf"{w.TASK_FIRST} (?:is|are)(?: now| already| finally)? {w.SET_STATUS}", _set_status),
    (r"(?:(?:i|we) (?:need|have|must|should|gotta|got) to|i(?:'ve| have) got to|(?:i|we) must"
     r"|don'?t (?:let me )?forget to|(?:to-?do|to do|note to self|task) ?:) ?(?P<title>.+)",
     _create),
    (r"(?:add|create) (?!(?:a |an |another |new |the )*(?:tasks?|steps?|to)\b)(?P<title>.+)",
     _create),
)
_RULES: Final = tuple((re.compile(pattern, re.I), build) for pattern, build in _TABLE)
