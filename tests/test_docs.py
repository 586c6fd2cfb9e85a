"""The README and docs/: short enough to read, and every link resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 300
# [text](target): the target up to a space or the closing parenthesis; images alike.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def local_targets(document: Path) -> list[str]:
    targets = LINK.findall(document.read_text())
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_the_readme_stays_short() -> None:
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


def test_every_link_of_the_readme_and_docs_resolves_inside_the_repository() -> None:
    broken = []
    for document in documents():
        for target in local_targets(document):
            path = (document.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_the_docs_cite_no_document_outside_the_repository() -> None:
    outside = [
        f"{document.relative_to(ROOT)}: {match}"
        for document in documents()
        for match in re.findall(r"\.\./shared/\S+", document.read_text())
    ]
    assert not outside, outside


def test_every_page_of_docs_is_linked_from_its_index() -> None:
    index = (ROOT / "docs" / "README.md").read_text()
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    missing = [page for page in pages if page != "README.md" and f"({page})" not in index]
    assert not missing, missing
