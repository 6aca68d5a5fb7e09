"""The boundaries of the source tree, read with ``ast`` (nothing is imported): what ``rag/`` may import,
that its modules import each other without a loop, and how long a source file may grow.

What counts as an import:

- every ``import``/``from … import`` statement, at module level or inside a function, resolved to an absolute
  module name (``from .index import PassageIndex`` in ``rag/engine.py`` is ``rag.index``);
- except those under ``if TYPE_CHECKING:``, which never run: they are how two modules may name each other's
  types without importing each other at run time, so they are not an edge of the graph;
- importing ``rag.x`` is an edge to ``rag.x``, not to the package ``rag`` (Python runs ``rag/__init__.py`` first
  whatever the module, so counting it would make every module of the package a loop with ``__init__``).

Imports inside functions count for the loop check too: a lazy import hides a loop from the interpreter, not
from the design.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = "rag"
ADAPTER = "telegram_bot"  # the Telegram adapter's package; bot.py is its entry point
MAX_LINES = 400

# The command line is the one place in rag/ that starts what lives beside the library: `exchange-bot serve`
# runs the bot, `exchange-bot bench` the checkout's benchmarks and `exchange-bot report` the newsroom's report.
# All import lazily, inside the command.
ENTRY_POINT_IMPORTS = {("rag.cli", "bot"), ("rag.cli", "benchmarks"), ("rag.cli", "newsroom")}

@dataclass(frozen=True)
class Import:
    importer: str  # dotted name of the importing module
    target: str  # absolute dotted name of what it imports
    line: int
    lazy: bool  # inside a function


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _library_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((ROOT / LIBRARY).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, known: set[str]) -> Iterator[Import]:
    """Every import of one module that can run, resolved to absolute names (see the module docstring)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, lazy: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (i for child in node.orelse for i in visit(child, lazy))
            return
        if isinstance(node, ast.Import):
            yield from (Import(module, alias.name, node.lineno, lazy) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(module, submodule if submodule in known else base, node.lineno, lazy)
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            yield from visit(child, inner)

    yield from visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)


def _library_imports() -> list[Import]:
    modules = _library_modules()
    return [i for name, path in modules.items() for i in _imports(name, path, set(modules))]


def _beside_the_library() -> set[str]:
    """Top-level modules and packages of the checkout other than the library: the bot, tests, benchmarks, …"""
    names = {p.stem for p in ROOT.glob("*.py")}
    names |= {p.parent.name for p in ROOT.glob("*/__init__.py")}
    return (names | {"bot", ADAPTER, "tests", "benchmarks"}) - {LIBRARY}


def _source_files() -> list[Path]:
    """The top-level scripts and every package's modules, tests excepted."""
    files = set(ROOT.glob("*.py"))
    for init in ROOT.glob("*/__init__.py"):
        if init.parent.name != "tests":
            files |= set(init.parent.rglob("*.py"))
    return sorted(files)


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_the_reader_resolves_relative_lazy_and_type_only_imports(tmp_path: Path) -> None:
    source = tmp_path / "engine.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import models\n"
        "from .index import PassageIndex\n"
        "import rag.settings as settings\n"
        "if TYPE_CHECKING:\n"
        "    from .live import LiveEngine\n"
        "def serve():\n"
        "    import bot\n",
        encoding="utf-8",
    )
    known = {"rag.models", "rag.index", "rag.live", "rag.settings"}
    found = {(i.target, i.lazy) for i in _imports("rag.engine", source, known)}
    assert found == {("typing", False), ("rag.models", False), ("rag.index", False), ("rag.settings", False), ("bot", True)}
    assert {"rag", "rag.engine", "rag.cli"} <= set(_library_modules())


def test_the_library_imports_nothing_beside_it() -> None:
    beside = _beside_the_library()
    assert {"bot", ADAPTER, "tests", "benchmarks"} <= beside and LIBRARY not in beside
    wrong = [
        f"{i.importer} imports {i.target} (line {i.line})"
        for i in _library_imports()
        if (top := i.target.split(".")[0]) in beside
        if not (i.lazy and (i.importer, top) in ENTRY_POINT_IMPORTS)
    ]
    assert not wrong, "rag/ must not depend on the bot, the tests or the benchmarks:\n" + "\n".join(wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One loop through each strongly connected group of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm; the graph has a few dozen nodes
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return groups


def test_cycles_finds_a_loop_and_passes_a_tree() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_library_has_no_import_loop() -> None:
    modules = set(_library_modules())
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for i in _library_imports():
        if i.target in modules and i.target != i.importer:
            edges[i.importer].add(i.target)
    loops = _cycles(edges)
    assert not loops, "modules of rag/ that import each other in a loop: " + "; ".join(" <-> ".join(g) for g in loops)


def test_no_source_file_grows_past_the_limit() -> None:
    over = {str(p.relative_to(ROOT)): n for p in _source_files() if (n := _line_count(p)) > MAX_LINES}
    assert not over, f"split these below {MAX_LINES} lines: {over}"


def test_every_top_level_module_is_installed() -> None:
    """A bot module missing from pyproject's py-modules or packages imports in a checkout and fails in an installed bot."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {path.stem for path in ROOT.glob("*.py")} - set(setuptools["py-modules"]) == set()
    packages = {init.parent.name for init in ROOT.glob("*/__init__.py")}
    bot = {"bot": ROOT / "bot.py"} | {_module_name(path): path for path in sorted((ROOT / ADAPTER).rglob("*.py"))}
    needed = {i.target.split(".")[0] for name, path in bot.items() for i in _imports(name, path, set(bot))} & packages
    assert {LIBRARY, ADAPTER} <= needed and needed - set(setuptools["packages"]) == set()
