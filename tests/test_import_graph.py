"""No import circles in ``spacy_knowcoder`` and ``training``, lazy imports included.

Every ``import`` and ``from ... import`` in every module (at the top or inside a
function) is an edge of a graph of the project's modules; a strongly connected
component of more than one module is a circle. A lazy import hides a circle
from Python, not from the design: two modules that need each other are one
concept in two homes. Imports under ``if TYPE_CHECKING:`` name types for the
reader and the type checker only, and are not edges.
"""
import ast
from pathlib import Path
from typing import Dict, List, Set

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("spacy_knowcoder", "training")


def project_modules() -> Dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported_modules(name: str, path: Path, known: Dict[str, Path]) -> Set[str]:
    """The project modules ``name`` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    edges = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if is_package else name.split(".")[:-1]
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                edges.add(target if target in known else base)
        elif isinstance(node, ast.Import):
            edges.update(alias.name for alias in node.names)
    return {edge for edge in edges if edge in known and edge != name}


def _runtime_nodes(tree: ast.AST) -> List[ast.AST]:
    """Every node of a module except those under ``if TYPE_CHECKING:``."""
    nodes, todo = [], [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def circles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_finder_sees_a_circle_through_a_lazy_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_type_checking_imports_are_not_edges(tmp_path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from .a import A\nelse:\n    from .b import B\n"
                      "def f():\n    from .c import C\n")
    known = {"p.m": module, "p.a": module, "p.b": module, "p.c": module}
    assert imported_modules("p.m", module, known) == {"p.b", "p.c"}


def test_the_project_has_no_import_circle() -> None:
    known = project_modules()
    assert "training.phase" in known and "spacy_knowcoder.generation.sources" in known
    graph = {name: imported_modules(name, path, known) for name, path in known.items()}
    assert "spacy_knowcoder.generation.sources" in graph["spacy_knowcoder.generation.adapter"]
    assert circles(graph) == []
