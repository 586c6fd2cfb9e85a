"""The layers hold: the domain and the models know no GraphQL and no web framework, and the
models know no domain. Read from the source (every import statement, inside functions too),
so a lazy import cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> the top-level modules it must never import
FORBIDDEN = {
    "domain": {"graph", "strawberry", "graphql", "fastapi", "starlette", "uvicorn"},
    "models": {"graph", "domain", "strawberry", "graphql", "fastapi", "starlette", "uvicorn"},
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


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_above_it(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    crossings = sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN[package]
    )
    assert not crossings, "\n".join(crossings)


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from graph.context import Info\n    return Info\n")
    assert "graph.context" in imported_modules(module)
