"""The schema evolves by docs/schema-evolution.md: every breaking change since the last release
is named in the changelog, and nothing is removed that the last release did not deprecate."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import (
    BreakingChange,
    BreakingChangeType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
)

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = ROOT / "docs" / "CHANGELOG.md"
RELEASES = ROOT / "docs" / "releases"

# graphql-core names a member by its schema coordinate ("Field Task.title was removed.",
# "Argument Query.tasks(first:) ...", "Enum value TaskStatus.OPEN ..."), a type by its name.
_MEMBER = re.compile(r"\b\w+\.\w+(?:\(\w+:\))?")
_TYPE = re.compile(r"^\w+")
_REMOVALS = {
    BreakingChangeType.FIELD_REMOVED, BreakingChangeType.ARG_REMOVED,
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM,
}


def coordinate(change: BreakingChange) -> str:
    match = _MEMBER.search(change.description) or _TYPE.search(change.description)
    assert match is not None, f"unrecognised change: {change.description}"
    return match.group(0)


def unreleased(changelog: str) -> str:
    """The changelog's "Unreleased" section."""
    section = re.split(r"^## Unreleased$", changelog, maxsplit=1, flags=re.MULTILINE)[1]
    return re.split(r"^## ", section, maxsplit=1, flags=re.MULTILINE)[0]


def was_deprecated(schema: GraphQLSchema, name: str) -> bool:
    """Whether `Type.field`, `Type.field(arg:)` or `Enum.VALUE` is deprecated in `schema`."""
    match = re.fullmatch(r"(\w+)\.(\w+)(?:\((\w+):\))?", name)
    if match is None:
        return False
    type_name, member, argument = match.groups()
    named = schema.get_type(type_name)
    values = getattr(named, "values", None) or {}
    if member in values:
        return values[member].deprecation_reason is not None
    field = (getattr(named, "fields", None) or {}).get(member)
    if field is None:
        return False
    if argument is not None:
        arg = field.args.get(argument)
        return arg is not None and arg.deprecation_reason is not None
    return field.deprecation_reason is not None


def unannounced(released: GraphQLSchema, current: GraphQLSchema, changelog: str) -> list[str]:
    """Why the change from `released` to `current` breaks the policy; empty when it keeps it."""
    named = unreleased(changelog)
    problems = []
    for change in find_breaking_changes(released, current):
        where = coordinate(change)
        if f"`{where}`" not in named:
            problems.append(f"not in the changelog's Unreleased section: `{where}` "
                            f"({change.description})")
        if change.type in _REMOVALS and not was_deprecated(released, where):
            problems.append(f"removed without being deprecated in the last release: `{where}`")
    return problems


def last_release() -> Path:
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.stem.split("."))

    return max(RELEASES.glob("*.graphql"), key=version)


def test_every_breaking_change_since_the_last_release_is_announced() -> None:
    released = build_schema(last_release().read_text())
    current = build_schema((ROOT / "schema.graphql").read_text())
    assert unannounced(released, current, CHANGELOG.read_text()) == []


def test_the_last_release_has_its_heading_in_the_changelog() -> None:
    assert f"\n## {last_release().stem} (" in CHANGELOG.read_text()


RELEASED = """
type Query { task(id: ID!): Task, old: String @deprecated(reason: "Use task.") }
type Task { id: ID!, title: String!, legacy: String }
enum Status { OPEN DONE }
type Mutation { setStatus(status: Status): Boolean }
"""
CHANGED = """
type Query { task(id: ID!): Task }
type Task { id: ID!, title: String! }
enum Status { OPEN }
type Mutation { setStatus(status: Status): Boolean }
"""


def test_an_unannounced_removal_is_caught() -> None:
    changelog = "# Changelog\n\n## Unreleased\n\n- `Query.old` removed.\n\n## 0.1.0 (x)\n"
    problems = unannounced(build_schema(RELEASED), build_schema(CHANGED), changelog)
    assert "`Query.old`" not in " ".join(problems)  # announced and deprecated first
    assert problems == [
        "not in the changelog's Unreleased section: `Task.legacy` (Field Task.legacy was removed.)",
        "removed without being deprecated in the last release: `Task.legacy`",
        "not in the changelog's Unreleased section: `Status.DONE` "
        "(Enum value Status.DONE was removed.)",
        "removed without being deprecated in the last release: `Status.DONE`",
    ]


def test_an_announced_removal_of_what_was_not_deprecated_is_still_refused() -> None:
    changelog = "## Unreleased\n\n- `Task.legacy`, `Status.DONE`, `Query.old` removed.\n"
    problems = unannounced(build_schema(RELEASED), build_schema(CHANGED), changelog)
    assert problems == [
        "removed without being deprecated in the last release: `Task.legacy`",
        "removed without being deprecated in the last release: `Status.DONE`",
    ]
