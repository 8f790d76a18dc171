"""The package's folders are its layers: each module imports only its own layer and the layers below,
and no modules import each other in a cycle (imports inside functions and under `if TYPE_CHECKING:`
count: a type a lower module needs belongs in it or in a Protocol there)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

LAYERS = [
    "settings",  # rag/settings.py: every RAG_* variable, read once; imports nothing of rag
    "text", "reading", "embedding", "storage", "ingest", "citing", "search", "answers", "evaluation", "interfaces",
]  # fmt: skip
RANK = {name: i for i, name in enumerate(LAYERS)}
PACKAGE = REPO / "rag"


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The rag modules a file imports (names resolved to modules where they are submodules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("rag"))
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            mod = ".".join(x for x in (base, node.module or "") if x)
            if mod.startswith("rag"):
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    is_module = (REPO / Path(*sub.split("."))).with_suffix(".py").exists() or (
                        REPO / Path(*sub.split("."))
                    ).is_dir()
                    out.add(sub if is_module else mod)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def _graph() -> dict[str, set[str]]:
    return {_module(f): _imports(f) for f in PACKAGE.rglob("*.py")}


def test_every_module_lives_in_a_layer():
    loose = [m for m in _graph() if _layer(m) is None and m != "rag"]
    assert not loose, f"modules outside the layer folders {LAYERS}: {loose}"


def test_each_layer_imports_only_itself_and_the_layers_below():
    upward = [
        f"{m} ({_layer(m)}) imports {t} ({_layer(t)})"
        for m, targets in _graph().items()
        for t in targets
        if _layer(m) and _layer(t) and RANK[_layer(t)] > RANK[_layer(m)]
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    graph = {m: {t for t in ts if t in _graph_nodes()} for m, ts in _graph().items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def dfs(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt == "rag" or node.startswith(nxt + "."):  # a package's own __init__
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                dfs(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            dfs(node, [node])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def _graph_nodes() -> set[str]:
    return {_module(f) for f in PACKAGE.rglob("*.py")}


def test_the_check_sees_an_upward_import(tmp_path):
    """The checker itself: a text-layer module importing the search layer is caught."""
    f = PACKAGE / "text" / "_probe_upward.py"
    f.write_text("from rag.search.retrieve import Searcher\n", encoding="utf-8")
    try:
        graph = _graph()
        assert "rag.search.retrieve" in graph["rag.text._probe_upward"]
        bad = [t for t in graph["rag.text._probe_upward"] if RANK[_layer(t)] > RANK["text"]]
        assert bad == ["rag.search.retrieve"]
    finally:
        f.unlink()
