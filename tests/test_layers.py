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


SPAWNERS = {"Popen", "run", "call", "check_call", "check_output"}  # of subprocess


def _names_the_cli(word: str) -> bool:
    """A word of a command line that starts rag's own CLI: its module or the `rag` console script."""
    return word.startswith("rag.interfaces") or word == "rag" or word.endswith(("/rag", "\\rag"))


def cli_launches(source: str, interfaces: bool = False) -> list[str]:
    """Where a module's source starts rag's CLI as a process — a dependency on the interfaces layer no import
    shows: a subprocess call whose command-line literal names `rag.interfaces…` or the `rag` script, and,
    outside the interfaces layer (`interfaces` false), any string naming ``rag.interfaces.cli``
    (a command built elsewhere and passed in; docstrings aside)."""
    tree = ast.parse(source)
    seen = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    found: list[str] = []
    for node in ast.walk(tree):  # breadth first: a call before the strings in it
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name not in SPAWNERS:
                continue
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for word in [arg, *getattr(arg, "elts", [])]:
                    if isinstance(word, ast.Constant) and isinstance(word.value, str) and word.value.split():
                        if _names_the_cli(word.value.split()[0]):
                            found.append(f"line {node.lineno}: {name}(… {word.value!r} …)")
                            seen.add(id(word))
        elif (not interfaces and isinstance(node, ast.Constant) and isinstance(node.value, str)
              and "rag.interfaces.cli" in node.value and id(node) not in seen):  # fmt: skip
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def test_no_module_starts_the_cli_as_a_process():
    """Background work runs an entry point of its own layer (`python -m rag.ingest.complete`), never the CLI."""
    bad = [
        f"{_module(f)} {where}"
        for f in sorted(PACKAGE.rglob("*.py"))
        for where in cli_launches(f.read_text(encoding="utf-8"), interfaces=_layer(_module(f)) == "interfaces")
    ]
    assert not bad, "\n".join(bad)


def test_the_check_sees_a_cli_launch():
    """The checker itself, on planted sources."""
    spawn = (
        "import subprocess, sys\n"
        "def go(d):\n"
        "    subprocess.Popen([sys.executable, '-m', 'rag.interfaces.cli', 'complete', '--index', d])\n"
        "    subprocess.run(['rag', 'ingest', d], check=True)\n"
        "    subprocess.check_output('rag serve', shell=True)\n"
    )
    assert cli_launches(spawn) == [
        "line 3: Popen(… 'rag.interfaces.cli' …)", "line 4: run(… 'rag' …)", "line 5: check_output(… 'rag serve' …)",
    ]  # fmt: skip
    passed_in = '"""Runs rag.interfaces.cli serve."""\nCMD = ["python", "-m", "rag.interfaces.cli", "serve"]\n'
    assert cli_launches(passed_in) == ["line 2: 'rag.interfaces.cli'"]
    assert cli_launches(passed_in, interfaces=True) == []  # the CLI may name itself
    fine = "import subprocess, sys\nsubprocess.Popen([sys.executable, '-m', 'rag.ingest.complete', '--index', 'x'])\n"
    assert cli_launches(fine) == []


def test_storage_modules_stay_small():
    """No module of the storage layer grows past 600 lines (#21: split by concern, not one big file)."""
    long = {p.name: n for p in (REPO / "rag" / "storage").glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}  # fmt: skip
    assert not long, long
