"""The package layout holds: no import cycles, and data flows one way (docs/DESIGN).

`collectors/` and `classifier/` import neither each other nor `jobs/`; only `jobs/` imports
them. All three may import `stablewatch` (the root of the errors), which imports none of
them. Imports inside functions count too: a deferred import still ties two modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("stablewatch", "collectors", "classifier", "jobs")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Each project module and the project modules it imports (anywhere in the file)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_collectors_and_classifier_import_only_themselves_and_the_base() -> None:
    allowed = {"stablewatch": set(), "collectors": {"stablewatch"}, "classifier": {"stablewatch"}}
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if (home := module.split(".")[0]) in allowed
        and target.split(".")[0] not in allowed[home] | {home}
    ]
    assert wrong == []


def test_benchmarks_and_scripts_import_the_installed_package() -> None:
    """No script puts the checkout on sys.path: they import stablewatch as installed."""
    edits = []
    for path in sorted([*REPO.glob("benchmarks/*.py"), *REPO.glob("scripts/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = node.func if isinstance(node, ast.Call) else node
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "path"
                and isinstance(target.value.value, ast.Name)
                and target.value.value.id == "sys"
                and target.attr in ("insert", "append", "extend")
            ):
                edits.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert edits == []
