"""ba_tui has no import circle, counting imports inside functions (they hid a seven-module
circle at the bottom once); imports for type checking only do not count. The layering
itself is import-linter's contracts in pyproject.toml, run by CI as `lint-imports`."""

from __future__ import annotations

import grimp


def _circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return circles


def test_no_module_of_ba_tui_imports_itself_round_a_circle():
    graph = grimp.build_graph("ba_tui", exclude_type_checking_imports=True)
    assert _circles(graph) == []


def test_the_check_finds_a_circle_when_there_is_one():
    graph = grimp.build_graph("ba_tui", exclude_type_checking_imports=True)
    graph.add_import(importer="ba_tui.errors", imported="ba_tui.store")  # store imports errors
    assert any({"ba_tui.errors", "ba_tui.store"} <= set(group) for group in _circles(graph))
