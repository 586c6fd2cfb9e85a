"""The benchmark's modules form a library without cycles and one entry point: `python -m
bench` runs bench/__main__.py, which no module imports (a module imported both as `__main__`
and as `bench.__main__` would run twice, with two copies of its globals). Read from the
source (every import statement, inside functions too), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_names(package: Path) -> dict[str, Path]:
    """Every module of `package` (a directory under some root), by its dotted name."""
    modules: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that the module `name` imports. `from bench import x` imports
    the module bench.x when there is one, else a name of bench/__init__.py."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found & known - {name}


def import_graph(package: Path) -> dict[str, set[str]]:
    modules = module_names(package)
    return {name: imports(name, path, set(modules)) for name, path in modules.items()}


def a_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` as the modules along it (first repeated last), or []."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str]:
        if name in path:
            return [*path[path.index(name):], name]
        if name in done:
            return []
        path.append(name)
        for imported in sorted(graph[name]):
            cycle = visit(imported)
            if cycle:
                return cycle
        path.pop()
        done.add(name)
        return []

    for name in sorted(graph):
        cycle = visit(name)
        if cycle:
            return cycle
    return []


def test_the_bench_modules_import_one_another_without_a_cycle() -> None:
    graph = import_graph(ROOT / "bench")
    assert "bench.runner" in graph["bench.suite"]  # the graph sees the bench's own imports
    assert a_cycle(graph) == []


def test_no_bench_module_imports_the_entry_point() -> None:
    graph = import_graph(ROOT / "bench")
    assert sorted(name for name, imported in graph.items() if "bench.__main__" in imported) == []


def test_the_check_sees_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import helper\n")
    (package / "b.py").write_text("def helper():\n    from pkg import a\n    return a\n")
    assert a_cycle(import_graph(package)) == ["pkg.a", "pkg.b", "pkg.a"]
