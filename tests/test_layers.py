"""The layers hold: the domain and the models know no GraphQL and no web framework, the
models know no domain, and the resolvers write no SQL (they map input to a domain use case
and its answer to a payload, so they import no SQLAlchemy, not even for a type). Read from
the source (every import statement, inside functions and `if TYPE_CHECKING:` too), so a lazy
or type-only import cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package (a folder under the root) -> the top-level modules it must never import
FORBIDDEN = {
    "domain": {"graph", "strawberry", "graphql", "fastapi", "starlette", "uvicorn"},
    "models": {"graph", "domain", "strawberry", "graphql", "fastapi", "starlette", "uvicorn"},
    "graph/resolvers": {"sqlalchemy"},
}


def imported_modules(path: Path) -> set[str]:
    """The absolute module names a file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def crossings(folder: Path, forbidden: set[str]) -> list[str]:
    """Each import of a forbidden module by a file under `folder`."""
    files = sorted(folder.rglob("*.py"))
    assert files
    return sorted(
        f"{path.relative_to(folder)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in forbidden
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_above_it(package: str) -> None:
    found = crossings(ROOT / package, FORBIDDEN[package])
    assert not found, "\n".join(found)


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from graph.context import Info\n    return Info\n")
    assert "graph.context" in imported_modules(module)


def test_the_check_sees_a_type_only_sqlalchemy_import_in_a_resolver(tmp_path: Path) -> None:
    resolvers = tmp_path / "graph" / "resolvers" / "queries"
    resolvers.mkdir(parents=True)
    (resolvers / "typed.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sqlalchemy.ext.asyncio import AsyncSession\n"
    )
    found = crossings(tmp_path / "graph" / "resolvers", FORBIDDEN["graph/resolvers"])
    assert found == ["queries/typed.py imports sqlalchemy.ext.asyncio"]
