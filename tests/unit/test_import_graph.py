"""The command line's and the local runtime's modules import each other in one direction only.

Every import counts, the deferred ones inside functions too: a deferred import hides a circle
from Python's loader, not from a reader. A circle means a shared piece lives in the wrong module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import villages_sync_ops

PACKAGE_ROOT = Path(villages_sync_ops.__file__).parent
CHECKED = ("cli", "local")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = [p for folder in CHECKED for p in (PACKAGE_ROOT / folder).glob("*.py")]
    known = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, known) - {_module_name(p)} for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_import_graph_cli_and_local_have_no_cycle():
    # Given every module of villages_sync_ops.cli and villages_sync_ops.local
    graph = import_graph()
    # When the imports are followed, deferred ones included
    cycle = find_cycle(graph)
    # Then none leads back to where it started
    assert cycle is None, " -> ".join(cycle or [])


def test_find_cycle_reports_a_planted_circle():
    # The checker itself: a circle through three modules is found and named
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_layer_package_imports_nothing_of_the_operator_package():
    # Given every module of villages_sync (the Lambda layer's package)
    import villages_sync

    layer_root = Path(villages_sync.__file__).parent
    offenders = [
        f"{path.relative_to(layer_root.parent)}: {name}"
        for path in sorted(layer_root.rglob("*.py"))
        for name in _imported_names(path)
        if name.split(".")[0] == "villages_sync_ops"
    ]

    # Then none imports villages_sync_ops (deferred imports included): the layer lacks it
    assert offenders == []


def _imported_names(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names
