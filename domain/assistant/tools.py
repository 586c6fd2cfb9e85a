"""The assistant's tools, declared once: the model's JSON schema and the check of a call's
arguments are both derived from the declaration, so they cannot disagree.

A call's arguments are untrusted input, checked like a mutation's: unknown names, wrong
types, texts over their limits and lists over their maxima are refused before any SQL, and
the refusal goes back to the model, not to the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from domain.errors import Invalid
from domain.validation import text_problem
from models.task import DESCRIPTION_MAX, STEP_CONTENT_MAX, STEPS_MAX, TASK_STATUSES, TITLE_MAX

# How the user names a task: a list number or words of its title.
REF_MAX = TITLE_MAX
SEARCH_MAX = 200
# A call's arguments as JSON text: enough for a task with its most steps at their longest.
ARGUMENTS_MAX_BYTES = 256 * 1024
LIST_STATUSES = ("open", "all", *TASK_STATUSES)
SETTABLE_STATUSES = ("pending", "in_progress", "completed", "cancelled")
BULK_ACTIONS = ("complete", "start", "pause", "cancel", "reopen", "delete")


@dataclass(frozen=True)
class Param:
    name: str
    # A JSON schema type: string, integer, boolean or array (of strings); or "step": an
    # integer or a string.
    kind: str
    description: str
    required: bool = False
    max_len: int | None = None  # a string's, or each array item's
    choices: tuple[str, ...] = ()
    max_items: int | None = None
    minimum: int | None = None

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind, "description": self.description}
        if self.kind == "step":
            schema["type"] = ["integer", "string"]
        elif self.kind == "array":
            schema["items"] = {"type": "string", "maxLength": self.max_len}
            schema["maxItems"] = self.max_items
        elif self.max_len is not None:
            schema["maxLength"] = self.max_len
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        return schema


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    params: tuple[Param, ...] = ()

    def spec(self) -> dict[str, Any]:
        """The OpenAI `function` object for this tool."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": {
                "type": "object",
                "properties": {param.name: param.schema() for param in self.params},
                "required": [param.name for param in self.params if param.required],
                "additionalProperties": False,
            },
        }


TASK = Param(
    "task", "string",
    "The task as the user sees it: its number in the last list shown in this conversation "
    "(e.g. \"3\"), or words of its title. Never a database id.",
    required=True, max_len=REF_MAX,
)
STEP = Param("step", "step", "The step: its number within the task (from 1), \"last\", or "
             "words of its content (\"the eggs step\": \"eggs\").", required=True, minimum=1,
             max_len=STEP_CONTENT_MAX)
TITLE = Param("title", "string", "The task's title.", max_len=TITLE_MAX)
DESCRIPTION = Param("description", "string", "A longer description.", max_len=DESCRIPTION_MAX)

TOOLS = (
    Tool("list_tasks", "List the user's tasks, numbered; the numbers stay valid until the "
         "next list.", (
             Param("status", "string", "Which tasks: open (the default), all, or one status.",
                   choices=LIST_STATUSES),
             Param("search", "string", "Only tasks whose title or description contains this.",
                   max_len=SEARCH_MAX),
             Param("more", "boolean", "Show the next page of the last list instead."),
         )),
    Tool("show_task", "Show one task with its description and numbered steps.", (TASK,)),
    Tool("create_task", "Create a task, optionally with steps; break_down splits the title's "
         "words into steps when you give none.", (
             Param("title", "string", "The task's title.", required=True, max_len=TITLE_MAX),
             DESCRIPTION,
             Param("steps", "array", "The steps, in order.", max_len=STEP_CONTENT_MAX,
                   max_items=STEPS_MAX),
             Param("break_down", "boolean", "Split the title into steps."),
         )),
    Tool("update_task", "Change a task's title or description.", (TASK, TITLE, DESCRIPTION)),
    Tool("set_status", "Move a task to a status.", (
        TASK, Param("status", "string", "The new status.", required=True,
                    choices=SETTABLE_STATUSES),
    )),
    Tool("complete_task", "Mark a task as completed.", (TASK,)),
    Tool("reopen_task", "Reopen a completed or cancelled task (back to pending).", (TASK,)),
    Tool("add_step", "Add a step at the end of a task.", (
        TASK, Param("content", "string", "What the step says.", required=True,
                    max_len=STEP_CONTENT_MAX),
        Param("or_new_task", "string", "When no task's title matches `task`, create a task "
              "with this title instead (the user's words were a new task).", max_len=TITLE_MAX),
    )),
    Tool("complete_step", "Mark one step of a task as done (or, with done false, not done).",
         (TASK, STEP, Param("done", "boolean", "False to uncheck the step; default true."))),
    Tool("remove_step", "Remove one step of a task. Asks the user to confirm first.",
         (TASK, STEP)),
    Tool("delete_task", "Delete a task and its steps for good. Asks the user to confirm first.",
         (TASK,)),
    Tool("check_off", "Mark done what the user's words name: a task by its title, or else "
         "an open step by its content (\"I bought the milk\").", (
             Param("what", "string", "The user's words for it.", required=True,
                   max_len=REF_MAX),
             Param("done", "boolean", "False to undo instead: reopen the task, uncheck the "
                   "step."),
             Param("verb", "string", "The user's past-tense verb when it is not a word for "
                   "done (\"checked\" the forecast): only a task or step whose own words "
                   "include that verb is meant.", max_len=50),
         )),
    Tool("change_tasks", "One change to several tasks at once: all tasks of a status, or all "
         "whose titles match `about`. Asks the user to confirm first.", (
             Param("action", "string", "What to do to each.", required=True,
                   choices=BULK_ACTIONS),
             Param("status", "string", "Which tasks, when not `about`: open (default), all or "
                   "one status.", choices=LIST_STATUSES),
             Param("about", "string", "Only tasks whose titles match these words.",
                   max_len=SEARCH_MAX),
         )),
    Tool("count_tasks", "Count the user's tasks, by status.", (
        Param("status", "string", "Which to count: all (default), open or one status.",
              choices=LIST_STATUSES),
    )),
    Tool("task_progress", "Where one task stands: its status and the steps done and left.", (
        TASK, Param("asking_done", "boolean", "The user asked whether it is done: answer yes "
                    "or no first."),
    )),
    Tool("suggest_next", "Suggest which task to do first, saying the rule used."),
)
BY_NAME = {tool.name: tool for tool in TOOLS}
SPECS = [tool.spec() for tool in TOOLS]


def checked_arguments(name: str, raw: str) -> dict[str, Any]:
    """The call's arguments, checked against the tool's declaration; `Invalid` otherwise."""
    tool = BY_NAME.get(name)
    if tool is None:
        raise Invalid({"tool": f"there is no tool named {name[:100]!r}"})
    if len(raw.encode("utf-8", "surrogatepass")) > ARGUMENTS_MAX_BYTES:
        raise Invalid({"arguments": f"must be at most {ARGUMENTS_MAX_BYTES} bytes"})
    try:
        given = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        raise Invalid({"arguments": "must be a JSON object"}) from None
    if not isinstance(given, dict):
        raise Invalid({"arguments": "must be a JSON object"})
    problems = {key[:100]: "is not an argument of this tool" for key in given
                if key not in {param.name for param in tool.params}}
    values: dict[str, Any] = {}
    for param in tool.params:
        value = given.get(param.name)
        if value is None:
            if param.required:
                problems[param.name] = "is required"
            continue
        problem = _problem(param, value)
        if problem is None:
            values[param.name] = value.strip() if isinstance(value, str) else value
        else:
            problems[param.name] = problem
    if problems:
        raise Invalid(problems)
    return values


def _problem(param: Param, value: Any) -> str | None:
    if param.kind == "string" or (param.kind == "step" and isinstance(value, str)):
        return _text_problem(param, value)
    if param.kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if param.kind in ("integer", "step"):
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        return None if value >= (param.minimum or 0) else f"must be at least {param.minimum}"
    if not isinstance(value, list):
        return "must be a list of texts"
    if param.max_items is not None and len(value) > param.max_items:
        return f"must have at most {param.max_items} items"
    return next(filter(None, (_text_problem(param, item) for item in value)), None)


def _text_problem(param: Param, value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a text"
    trimmed = value.strip()
    if not trimmed:
        return "must not be empty"
    if param.max_len is not None and len(trimmed) > param.max_len:
        return f"must be at most {param.max_len} characters"
    if param.choices and trimmed not in param.choices:
        return f"must be one of {', '.join(param.choices)}"
    return text_problem(trimmed)
