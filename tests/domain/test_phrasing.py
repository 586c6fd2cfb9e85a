"""The offline agent's reading of a message as tool calls (`domain/assistant/phrasing.py`)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from domain.assistant.phrasing import HELP, Plan, ToolCall, plan


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name, arguments)


def calls(message: str) -> list[ToolCall]:
    planned = plan(message)
    assert planned.text is None, planned.text
    return list(planned.calls)


EVERY_PHRASING = [
    # New tasks.
    ("add task: buy milk", [call("create_task", title="buy milk")]),
    ("add a task to buy milk", [call("create_task", title="buy milk")]),
    ("remind me to call mom", [call("create_task", title="call mom")]),
    ("new task buy milk", [call("create_task", title="buy milk")]),
    ("break down: plan the party, buy food, send invites",
     [call("create_task", title="plan the party, buy food, send invites", break_down=True)]),
    # Lists, pages, searches.
    ("list my tasks", [call("list_tasks")]),
    ("what are my tasks?", [call("list_tasks")]),
    ("show my tasks", [call("list_tasks")]),
    ("what's on my list", [call("list_tasks")]),
    ("list completed tasks", [call("list_tasks", status="completed")]),
    ("show all tasks", [call("list_tasks", status="all")]),
    ("show open tasks", [call("list_tasks", status="open")]),
    ("what have I finished", [call("list_tasks", status="completed")]),
    ("more", [call("list_tasks", more=True)]),
    ("next", [call("list_tasks", more=True)]),
    ("show more", [call("list_tasks", more=True)]),
    ("search tasks report", [call("list_tasks", search="report")]),
    ("find report", [call("list_tasks", search="report")]),
    # Completing.
    ("complete task 12", [call("check_off", what="12")]),
    ("complete task buy milk", [call("check_off", what="buy milk")]),
    ("mark the report as done", [call("check_off", what="report")]),
    ("mark task 3 as complete", [call("check_off", what="3")]),
    ("done 13", [call("check_off", what="13")]),
    ("finished 13", [call("check_off", what="13")]),
    ("I finished the report", [call("check_off", what="report")]),
    ("check off buy milk", [call("check_off", what="buy milk")]),
    ("complete tasks 1 and 3", [call("check_off", what="1"), call("check_off", what="3")]),
    # Deleting.
    ("delete task 13", [call("delete_task", task="13")]),
    ("remove buy milk", [call("delete_task", task="buy milk")]),
    ("delete the report", [call("delete_task", task="report")]),
    # Titles and descriptions.
    ("update task 30: call at 5", [call("update_task", task="30", title="call at 5")]),
    ("rename task 2 to call mom", [call("update_task", task="2", title="call mom")]),
    ("rename buy milk to buy oat milk",
     [call("update_task", task="buy milk", title="buy oat milk")]),
    ("change the description of task 2 to ask for the blue one",
     [call("update_task", task="2", description="ask for the blue one")]),
    # Statuses.
    ("reopen task 3", [call("reopen_task", task="3")]),
    ("reopen the report", [call("reopen_task", task="report")]),
    ("start task 2", [call("set_status", task="2", status="in_progress")]),
    ("I'm working on 2", [call("set_status", task="2", status="in_progress")]),
    ("cancel task 2", [call("set_status", task="2", status="cancelled")]),
    # One task and its steps.
    ("show task 2", [call("show_task", task="2")]),
    ("what's in task 2", [call("show_task", task="2")]),
    ("add step to task 2: call bob", [call("add_step", task="2", content="call bob")]),
    ('add a step "call bob" to the report', [call("add_step", task="report", content="call bob")]),
    ("complete step 1 of task 2", [call("complete_step", task="2", step=1)]),
    ("remove step 2 from task 3", [call("remove_step", task="3", step=2)]),
]


@pytest.mark.parametrize(("message", "expected"), EVERY_PHRASING)
def test_every_listed_phrasing_plans_its_tool_calls(
    message: str, expected: list[ToolCall]
) -> None:
    assert calls(message) == expected


MORE_PHRASINGS = [
    # Case, punctuation, spacing and politeness.
    ("Add Task: Buy Milk.", [call("create_task", title="Buy Milk")]),
    ("  add   task:   buy   milk  ", [call("create_task", title="buy milk")]),
    ("Can you add a task to buy milk, please?", [call("create_task", title="buy milk")]),
    ("could you remind me to call mom thanks!", [call("create_task", title="call mom")]),
    ("please, new task: renew passport!!", [call("create_task", title="renew passport")]),
    ("add task \u201cCall the bank\u201d", [call("create_task", title="Call the bank")]),
    ("add task: 'water the basil'.", [call("create_task", title="water the basil")]),
    ("create task Plan the #1 trip", [call("create_task", title="Plan the #1 trip")]),
    ("add buy milk to my list", [call("create_task", title="buy milk")]),
    ("todo: renew passport", [call("create_task", title="renew passport")]),
    ("add task plan the trip with steps: book flights, pack, and then go",
     [call("create_task", title="plan the trip", steps=["book flights", "pack", "go"])]),
    ("add task buy milk with description the oat one",
     [call("create_task", title="buy milk", description="the oat one")]),
    ("add task plan the party and break it down",
     [call("create_task", title="plan the party", break_down=True)]),
    ("LIST MY TASKS!", [call("list_tasks")]),
    ("what are my tasks", [call("list_tasks")]),
    ("whats on my list?", [call("list_tasks")]),
    ("What is on my to-do list", [call("list_tasks")]),
    ("show me all my tasks?", [call("list_tasks", status="all")]),
    ("tasks", [call("list_tasks")]),
    ("completed tasks", [call("list_tasks", status="completed")]),
    ("show in progress tasks", [call("list_tasks", status="in_progress")]),
    ("list cancelled tasks", [call("list_tasks", status="cancelled")]),
    ("what did I complete today?", [call("list_tasks", status="completed")]),
    ("Show more, please", [call("list_tasks", more=True)]),
    ("next page", [call("list_tasks", more=True)]),
    ("search my tasks for 'quarterly report'",
     [call("list_tasks", search="quarterly report")]),
    ("find completed tasks about taxes", [call("list_tasks", status="completed", search="taxes")]),
    ("find all done tasks", [call("list_tasks", status="completed")]),
    ("Complete Task #12!", [call("check_off", what="12")]),
    ("please complete task 12, thanks", [call("check_off", what="12")]),
    ("mark task 3 as done.", [call("check_off", what="3")]),
    ("Mark #3 complete", [call("check_off", what="3")]),
    ("done with task 13", [call("check_off", what="13")]),
    ("I've finished buy milk", [call("check_off", what="buy milk")]),
    ("I\u2019m done with the report", [call("check_off", what="report")]),
    ("tick buy milk off my list", [call("check_off", what="buy milk")]),
    ("the report is done", [call("check_off", what="report")]),
    ("complete 1, 2 and 3", [call("check_off", what=n) for n in ("1", "2", "3")]),
    ("complete research and write", [call("check_off", what="research and write")]),
    ("delete tasks 4 & 5", [call("delete_task", task="4"), call("delete_task", task="5")]),
    ("remove buy milk from my list", [call("delete_task", task="buy milk")]),
    ('delete "the report"', [call("delete_task", task="the report")]),
    ("Rename 'go to gym' to 'go to the pool'",
     [call("update_task", task="go to gym", title="go to the pool")]),
    ("change the title of task 2 to call dad", [call("update_task", task="2", title="call dad")]),
    ("change task 2 to call dad", [call("update_task", task="2", title="call dad")]),
    ("set the description of the report to two pages max",
     [call("update_task", task="report", description="two pages max")]),
    ("mark task 2 as in progress", [call("set_status", task="2", status="in_progress")]),
    ("set task 2 to pending", [call("set_status", task="2", status="pending")]),
    ("put task 2 on hold", [call("set_status", task="2", status="pending")]),
    ("mark task 2 as not done", [call("reopen_task", task="2")]),
    ("start working on the report", [call("set_status", task="report", status="in_progress")]),
    ("I am working on task 2", [call("set_status", task="2", status="in_progress")]),
    ("working on buy milk", [call("set_status", task="buy milk", status="in_progress")]),
    ("abandon task 2", [call("set_status", task="2", status="cancelled")]),
    ("Show Task 2.", [call("show_task", task="2")]),
    ("what is in the report?", [call("show_task", task="report")]),
    ("tell me about task 2", [call("show_task", task="2")]),
    ("task #4", [call("show_task", task="4")]),
    ("Add Step to Task 2: Call Bob.", [call("add_step", task="2", content="Call Bob")]),
    ("add steps to task 2: buy food, send invites",
     [call("add_step", task="2", content="buy food"),
      call("add_step", task="2", content="send invites")]),
    ("add go to the bank as a step to task 2",
     [call("add_step", task="2", content="go to the bank")]),
    ("mark step 1 of task 2 as done", [call("complete_step", task="2", step=1)]),
    ("complete steps 1 and 2 of the report",
     [call("complete_step", task="report", step=1), call("complete_step", task="report", step=2)]),
    ("step 3 of task 2 is done", [call("complete_step", task="2", step=3)]),
    # Removing several steps goes from the last, so the numbers read stay right.
    ("remove steps 1 and 3 from task 2",
     [call("remove_step", task="2", step=3), call("remove_step", task="2", step=1)]),
    ("delete step 2 of buy milk", [call("remove_step", task="buy milk", step=2)]),
    ("break down plan the trip", [call("create_task", title="plan the trip", break_down=True)]),
]


@pytest.mark.parametrize(("message", "expected"), MORE_PHRASINGS)
def test_everyday_variants_plan_the_same_calls(message: str, expected: list[ToolCall]) -> None:
    assert calls(message) == expected


@pytest.mark.parametrize(
    "variant",
    [
        "{}", "{}.", "{}!", "{}?", "  {}  ", "{}  ", "PLEASE {}", "please {} please",
        "can you {}?", "Could you {}, please?", "{}, thanks!", "{} thank you",
    ],
)
@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("list my tasks", [call("list_tasks")]),
        ("complete task 12", [call("check_off", what="12")]),
        ("delete task 13", [call("delete_task", task="13")]),
        ("show all tasks", [call("list_tasks", status="all")]),
        ("show more", [call("list_tasks", more=True)]),
        ("cancel task 2", [call("set_status", task="2", status="cancelled")]),
        ("complete step 1 of task 2", [call("complete_step", task="2", step=1)]),
    ],
)
def test_case_punctuation_and_politeness_do_not_matter(
    variant: str, message: str, expected: list[ToolCall]
) -> None:
    assert calls(variant.format(message)) == expected
    assert calls(variant.format(message.upper())) == expected


def test_a_task_number_is_passed_on_as_the_user_wrote_it_never_as_an_id() -> None:
    for message in ("complete task 12", "complete #12", "complete 12", "complete task #12"):
        assert calls(message) == [call("check_off", what="12")]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("complete the first task", [call("check_off", what="1")]),
        ("delete the second one", [call("delete_task", task="2")]),
        ("show task three", [call("show_task", task="3")]),
        ("update the report to say final draft",
         [call("update_task", task="report", title="final draft")]),
    ],
)
def test_spelled_numbers_and_wordings(message: str, expected: list[ToolCall]) -> None:
    assert calls(message) == expected


def test_a_step_number_too_long_to_be_one_is_not_understood_never_guessed() -> None:
    planned = plan("remove step 99999999999 of task 2")
    assert planned.calls == () and planned.text is not None
    assert "didn't understand" in planned.text


@pytest.mark.parametrize("message", ["help", "Help!", "what can you do?", "?", "commands"])
def test_help_lists_example_phrasings(message: str) -> None:
    assert plan(message) == Plan(text=HELP)
    assert "add task: buy milk" in HELP and "complete step 1 of task 2" in HELP


@pytest.mark.parametrize(
    "message", ["hi there", "hello", "Hey!", "good morning", "hi, how are you?"]
)
def test_greetings_get_a_friendly_reply_that_mentions_help(message: str) -> None:
    planned = plan(message)
    assert planned.calls == () and planned.text is not None
    assert planned.text.startswith("Hi") and '"help"' in planned.text


@pytest.mark.parametrize("message", ["thanks", "Thank you!", "thanks a lot", "ok", "cool"])
def test_thanks_get_a_friendly_reply(message: str) -> None:
    assert plan(message) == Plan(text="You're welcome! Anything else?")


@pytest.mark.parametrize(
    "message",
    ["blorp zonk", "", "   ", "add tasks", "please", "!!!", "complete task",
     "what is the meaning of life"],
)
def test_what_is_not_understood_gets_a_short_help(message: str) -> None:
    planned = plan(message)
    assert planned.calls == () and planned.text is not None
    assert "didn't understand" in planned.text and "add task: buy milk" in planned.text
    assert len(planned.text) < len(HELP)


@pytest.mark.parametrize(
    "message", ["add task:", "add task: ---", "add a task", "remind me", "new task", "add"])
def test_a_new_task_without_words_is_asked_for(message: str) -> None:
    planned = plan(message)
    assert planned.calls == () and planned.text is not None
    assert "?" in planned.text and "add task: buy milk" in planned.text


@pytest.mark.parametrize("message", ["rename it", "rename the report", "rename"])
def test_a_rename_without_the_new_title_is_asked_for(message: str) -> None:
    planned = plan(message)
    assert planned.calls == () and planned.text is not None and "?" in planned.text


_HOSTILE_STARTS = [
    "", "add task ", "add step ", "add a step ", "add step to ", "add ", "rename ", "update ",
    "change the description of ", "mark ", "complete ", "complete step 1 of ", "remove step ",
    "search ", "find ", "what are ", "what's ", "i ", "i've ", "i'm ", "please ", "hi, ",
    "show ", "delete ", "step 1 of ", "task ", "start ", "break down: ",
]
_HOSTILE_FILLS = [
    "a", "a ", "to ", "as ", ": ", "- ", '"', "'s ", "task ", "the ", "step 1 of ", "1, ",
    "1 and ", "!", "? ", "please ", "thanks ", "can you ", "with steps ", "description ",
    "steps 1 ", "off ", "is ", "done ", "and ", "in progress ", "#", "1", "'", " ,",
]


@pytest.mark.parametrize("fill", _HOSTILE_FILLS)
def test_a_hostile_message_of_32000_characters_plans_well_under_a_second(fill: str) -> None:
    ends = ("", "x", " done", " to x", ": x")
    for number, start in enumerate(_HOSTILE_STARTS):
        end = ends[number % len(ends)]
        message = (start + fill * 32_000)[: 32_000 - len(end)] + end
        began = time.perf_counter()
        planned = plan(message)
        assert time.perf_counter() - began < 1.0, (start, fill, end)
        assert isinstance(planned, Plan)


@pytest.mark.parametrize(("message", "expected"), [
    # A punctuation mark said aloud at the end is punctuation, not title text.
    ("add buy printer ink period", [call("create_task", title="buy printer ink")]),
    ("add call the vet full stop", [call("create_task", title="call the vet")]),
    # "add a stpe": the letters of "step" swapped is still a step; "a stew" stays a stew.
    ("add a stpe to the lables: order samples",
     [call("add_step", task="lables", content="order samples")]),
    ("add a stew to the menu", [call("add_step", task="menu", content="a stew",
                                     or_new_task="a stew to the menu")]),
    # "kick off" starts a task: never corrected to "tick off" (which would complete it).
    ("kick off the invoices", [call("set_status", task="invoices", status="in_progress")]),
    # Changes to the tasks of a status, and removals with a remark after them (proposed).
    ("mark everything in progress as done",
     [call("change_tasks", action="complete", status="in_progress")]),
    ("mark all my pending tasks as started",
     [call("change_tasks", action="start", status="pending")]),
    ("remove the market one, its over", [call("delete_task", task="market one")]),
    # Notes after a colon, "call it X", the task a question names.
    ("put a note on it: net 30 terms", [call("update_task", task="it",
                                              description="net 30 terms")]),
    ("call it Ring the bank", [call("update_task", task="it", title="Ring the bank")]),
    ("whats the labels task", [call("show_task", task="labels")]),
    ("how's the wax order looking", [call("task_progress", task="wax order")]),
    ("for the labels add a step: pick fonts",
     [call("add_step", task="labels", content="pick fonts")]),
    ("tick the first and second steps on the vat return",
     [call("complete_step", task="vat return", step=1),
      call("complete_step", task="vat return", step=2)]),
])
def test_sixth_corpus_rules(message: str, expected: list[ToolCall]) -> None:
    assert calls(message) == expected


@pytest.mark.parametrize("message", ["call it a day", "whats the next task"])
def test_what_only_looks_like_a_rename_or_a_named_task_changes_nothing(message: str) -> None:
    assert not any(c.name == "update_task" or c.name == "show_task" for c in plan(message).calls)
