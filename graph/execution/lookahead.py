"""What the client selected below the current field, read before resolving it.

A connection resolver looks ahead at its nodes' selection to load their children for the
whole page at once (`Task.steps`, the step counts) before graphql-core walks the nodes; each
node's field then has its value at hand instead of awaiting a loader batch.

strawberry's `selected_fields` expands each fragment spread where it occurs, so its work
grows with the paths a document's fragments make, not with the document. The cost limit,
applied before execution (`graph/extensions/documents.py`), counts every one of those paths, so this
expansion never exceeds `MAX_COST` selections.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import SelectedField, Selection

from graph.context import Info


def node_fields(info: Info) -> set[str]:
    """The fields selected on a connection's nodes, through `edges { node }` and `nodes`."""
    return selected(info, "edges", "node") | selected(info, "nodes")


def selected(info: Info, *path: str) -> set[str]:
    """The schema names of the fields selected at `path` below the current field, through
    aliases and fragments. A field under `@skip` or `@include` counts as selected: looking
    ahead at it costs at most a statement the client did not need, never a wrong answer."""
    # `selected_fields` is the current field itself (once per place the query names it).
    level: list[Selection] = [child for field in _fields(info.selected_fields)
                              for child in field.selections]
    for name in path:
        level = [child for field in _fields(level) if field.name == name
                 for child in field.selections]
    return {field.name for field in _fields(level)}


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # an inline fragment or a fragment spread
            yield from _fields(selection.selections)
