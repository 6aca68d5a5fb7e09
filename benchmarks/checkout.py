"""The source checkout the benchmarks run from: the one place that knows where things lie around them.

The benchmarks are not part of the installed library; they drive it the way a user does, so they
need what only a checkout has: ``bot.py``, the loopback fakes in ``tests/``, and the shared eval set
beside the repository.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from .context import SectionUnavailable

ROOT = Path(__file__).resolve().parent.parent
BOT_SCRIPT = ROOT / "bot.py"
TESTS = ROOT / "tests"
SHARED_QUESTIONS = ROOT.parent / "shared" / "eval" / "qa.jsonl"


def child_pythonpath() -> str:
    """``PYTHONPATH`` for a child process (the bot, a start-up probe): this checkout's code first."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def load_fixture(name: str) -> ModuleType:
    """A standard-library test fixture (``tests/<name>.py``) by path: the benchmarks are not a test session."""
    path = TESTS / f"{name}.py"
    if not path.exists():
        raise SectionUnavailable(f"{path} is not here")
    spec = importlib.util.spec_from_file_location(f"bench_fixture_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module
