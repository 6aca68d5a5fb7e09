"""The boundaries of the source tree, read with ``ast`` (nothing is imported): what each part of the checkout may
import of the others (``WALLS``), that the library's modules import each other without a loop, and how long a
source file may grow.

What counts as an import:

- every ``import``/``from … import`` statement, at module level or inside a function, resolved to an absolute
  module name (``from .index import PassageIndex`` in ``rag/engine.py`` is ``rag.index``);
- except those under ``if TYPE_CHECKING:``, which never run: they are how two modules may name each other's
  types without importing each other at run time, so they are not an edge of the graph;
- importing ``rag.x`` is an edge to ``rag.x``, not to the package ``rag`` (Python runs ``rag/__init__.py`` first
  whatever the module, so counting it would make every module of the package a loop with ``__init__``).

Imports inside functions count for the walls and the loop check alike: a lazy import hides a dependency from
the interpreter, not from the design.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = "rag"
ADAPTER = "telegram_bot"  # the Telegram adapter's package; bot.py is its entry point
APP = "exchange_bot"  # the `exchange-bot` command line, on top of all the others
NEWSROOM = "newsroom"  # the question log and the report: beside the library, read by the bot and the app
MAX_LINES = 400

# What each part of the checkout may import of the other top-level modules and packages of the checkout (the
# library alone may import none of them); whatever else it imports comes from outside the checkout.
WALLS = {
    LIBRARY: set(),
    APP: {LIBRARY, ADAPTER, NEWSROOM, "bot", "benchmarks"},  # `serve` starts bot.py; `bench` the benchmarks/
    NEWSROOM: {LIBRARY},
    ADAPTER: {LIBRARY, NEWSROOM},  # the adapter asks the engine and logs to the newsroom's log, never the app
    "bot": {LIBRARY, ADAPTER, NEWSROOM},  # the entry point wires the adapter; `exchange-bot serve` starts it
}

@dataclass(frozen=True)
class Import:
    importer: str  # dotted name of the importing module
    target: str  # absolute dotted name of what it imports
    line: int
    lazy: bool  # inside a function


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_modules(package: str) -> dict[str, Path]:
    """A package's modules by dotted name, or a top-level module (``bot``) alone."""
    if (ROOT / f"{package}.py").is_file():
        return {package: ROOT / f"{package}.py"}
    return {_module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


def _library_modules() -> dict[str, Path]:
    return _package_modules(LIBRARY)


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


def _package_imports(package: str) -> list[Import]:
    modules = _package_modules(package)
    return [i for name, path in modules.items() for i in _imports(name, path, set(modules))]


def _library_imports() -> list[Import]:
    return _package_imports(LIBRARY)


def _checkout_parts() -> set[str]:
    """The top-level modules and packages of the checkout: the library, the bot, the app, tests, benchmarks, …"""
    names = {p.stem for p in ROOT.glob("*.py")}
    names |= {p.parent.name for p in ROOT.glob("*/__init__.py")}
    return names | {LIBRARY, "bot", ADAPTER, APP, "tests", "benchmarks"}


def _crossings(package: str, imports: list[Import], parts: set[str]) -> list[str]:
    """The imports of ``package`` that reach a part of the checkout its wall does not let it import."""
    allowed = WALLS[package] | {package}
    return [
        f"{i.importer} imports {i.target} (line {i.line}{', inside a function' if i.lazy else ''})"
        for i in imports
        if (top := i.target.split(".")[0]) in parts and top not in allowed
    ]


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
    assert {"rag", "rag.engine", "rag.evaluation", "rag.evaluation.squad"} <= set(_library_modules())


def test_a_crossing_is_found_lazy_or_not(tmp_path: Path) -> None:
    source = tmp_path / "engine.py"
    source.write_text("import rag.models\nimport benchmarks.cli\ndef serve():\n    import bot\n", encoding="utf-8")
    imports = list(_imports("rag.engine", source, {"rag.models"}))
    parts = {LIBRARY, "bot", "benchmarks"}
    assert _crossings(LIBRARY, imports, parts) == [
        "rag.engine imports benchmarks.cli (line 2)", "rag.engine imports bot (line 4, inside a function)",
    ]
    assert _crossings(APP, imports, parts) == []  # the app may start the bot and the benchmarks


def test_the_library_imports_nothing_beside_it() -> None:
    parts = _checkout_parts()
    assert {"bot", ADAPTER, APP, "tests", "benchmarks"} <= parts
    wrong = _crossings(LIBRARY, _library_imports(), parts)
    assert not wrong, "rag/ must not depend on the bot, the app, the tests or the benchmarks, lazily or not:\n" + (
        "\n".join(wrong)
    )


@pytest.mark.parametrize("part", [APP, NEWSROOM, ADAPTER, "bot"])
def test_each_part_beside_the_library_imports_only_what_its_wall_lets_through(part: str) -> None:
    wrong = _crossings(part, _package_imports(part), _checkout_parts())
    assert not wrong, f"{part} may import only {sorted(WALLS[part])} of the checkout:\n" + "\n".join(wrong)


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
    """A module missing from pyproject's py-modules or packages imports in a checkout and fails once installed: the
    packages the bot needs and the `exchange-bot` script's, each with its sub-packages (setuptools adds none itself)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = pyproject["tool"]["setuptools"]
    assert {path.stem for path in ROOT.glob("*.py")} - set(setuptools["py-modules"]) == set()
    packages = {init.parent.name for init in ROOT.glob("*/__init__.py")}
    bot = {"bot": ROOT / "bot.py"} | _package_modules(ADAPTER)
    needed = {i.target.split(".")[0] for name, path in bot.items() for i in _imports(name, path, set(bot))} & packages
    assert {LIBRARY, ADAPTER} <= needed
    assert pyproject["project"]["scripts"]["exchange-bot"] == f"{APP}.cli:app"
    needed.add(APP)
    with_subpackages = {_module_name(init) for package in needed for init in (ROOT / package).rglob("__init__.py")}
    assert LIBRARY + ".evaluation" in with_subpackages
    assert with_subpackages - set(setuptools["packages"]) == set()
