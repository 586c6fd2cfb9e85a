"""The offline chat assistant's understanding of a message (`domain/assistant/chatbot.py`)."""

from __future__ import annotations

import pytest

from domain.assistant.chatbot import Command, understand


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ("add task: buy milk", "buy milk"),
        ("Add task - call the bank.", "call the bank"),
        ("please add a task to water the basil", "water the basil"),
        ("create task Plan the #1 trip", "Plan the #1 trip"),
        ("new task:renew passport", "renew passport"),
    ],
)
def test_add_task_takes_the_title_after_the_command(message: str, title: str) -> None:
    assert understand(message).command == Command("add", title=title)


@pytest.mark.parametrize("message", ["add tasks", "add task:", "add task - ", "add task: ---"])
def test_add_task_without_a_title_gets_the_help_reply(message: str) -> None:
    answer = understand(message)
    assert answer.command is None
    assert answer.text is not None and "add task" in answer.text


@pytest.mark.parametrize(
    ("message", "command"),
    [
        ("list my tasks", Command("list")),
        ("show me all my tasks?", Command("list")),
        ("complete task 2", Command("complete", task_number=2)),
        ("mark task #3 as done", Command("complete", task_number=3)),
        ("delete task 4", Command("delete", task_number=4)),
        ("help", Command("help")),
    ],
)
def test_commands_are_understood(message: str, command: Command) -> None:
    assert understand(message).command == command
