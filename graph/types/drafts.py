"""MessageDraft: a reply as the assistant writes it (graph/drafts.py)."""

from __future__ import annotations

import strawberry

from graph.drafts import Draft
from graph.ids import encode_id


@strawberry.type(description=(
    "An assistant reply being written, as it grows: ephemeral (never stored, never "
    "replayed). Each draft carries the whole text so far; the last one has done true, and "
    "the reply itself arrives once as a stored Message."
))
class MessageDraft:
    conversation_id: strawberry.ID = strawberry.field(description="The conversation's id.")
    draft_id: str = strawberry.field(description=(
        "The reply being written: the same for every draft of one reply."))
    text: str = strawberry.field(description=(
        "The reply's text so far (a new round of the model starts it over)."))
    done: bool = strawberry.field(description=(
        "The reply is stored: drop this draft (the Message has the final text)."))
    truncated: bool = strawberry.field(description=(
        "The text is only the reply's beginning: a draft is at most ~7,900 bytes; the stored "
        "message is whole."))

    @classmethod
    def of(cls, draft: Draft) -> MessageDraft:
        return cls(conversation_id=strawberry.ID(encode_id("Conversation", draft.conversation_id)),
                   draft_id=draft.draft_id, text=draft.text, done=draft.done,
                   truncated=draft.truncated)
