"""Breaking words down into a task, as a use case: the viewer's words, the assistant's
breakdown, the task created with its steps (checked ones done). No GraphQL here.

The provider is asked with no transaction or connection held; its answer is kept within the
task's rules (`usable`); the task, the ai_logs rows and the audit entry are written in one
transaction, or the records alone when there is no usable breakdown, which is then
`AssistantUnavailable` with the error id.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain import tasks as service
from domain.assistant import Assistant, generations, make_title
from domain.assistant.breakdown import Breakdown
from domain.errors import AssistantUnavailable
from domain.transactions import Transactions
from domain.validation import Checks
from domain.viewers import Viewer
from models import Task
from models.task import STEP_CONTENT_MAX, STEPS_MAX, TITLE_MAX

INPUT_MAX = 10_000  # characters of words to break down


async def break_down_task(
    db: Transactions, assistant: Assistant, viewer: Viewer, text: str, *,
    seconds: float | None,
) -> Task:
    """The viewer's new task made of `text`'s breakdown (`text` checked first)."""
    checks = Checks()
    text = checks.text("input", text, max_len=INPUT_MAX) or ""
    checks.raise_if_any()
    if viewer.user_id is None:
        raise ValueError("a breakdown needs a viewer with an identity")
    user_id = viewer.user_id
    await db.release()  # a slow model must not hold a database connection
    result, generation = await generations.break_down(assistant, text, seconds=seconds)
    breakdown = usable(result, text)
    if breakdown is None and generation.error is None:
        generation.fail("the answer held no usable steps")

    async def work(session: AsyncSession) -> Task:
        if breakdown is None:
            raise AssistantUnavailable(
                f"The assistant could not break this down (error {generation.error_id}); "
                "try again.")
        return await service.create_task(
            session, user_id=user_id, session_id=viewer.session_id,
            values={"title": breakdown.title, "original_input": text}, steps=breakdown.steps,
            completed=breakdown.checked())

    return await generations.recorded(db, assistant, generation, user_id=user_id,
                                      session_id=viewer.session_id, work=work)


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def usable(result: object, text: str) -> Breakdown | None:
    """The provider's answer within the task's rules, or None when it is no breakdown.

    A provider may answer with an over-long or empty title, blank steps or too many: the
    title is cut to its limit at a word boundary (or made from the input when blank), each
    step to its limit, blank steps are dropped (with their checks) and the rest kept up to
    a task's most steps.
    """
    if not isinstance(result, Breakdown):
        return None
    title = make_title(_clean(str(result.title))) or make_title(_clean(text))
    done = list(result.done) + [False] * (len(result.steps) - len(result.done))
    kept = [(step, checked) for step, checked in
            ((_clean(str(step))[:STEP_CONTENT_MAX], checked)
             for step, checked in zip(result.steps, done, strict=False)) if step][:STEPS_MAX]
    if not kept:
        return None
    return Breakdown(title=title[:TITLE_MAX], steps=[step for step, _ in kept],
                     done=tuple(checked for _, checked in kept))
