"""Bytecode caching for the test run even where PYTHONDONTWRITEBYTECODE is set.

pytest rewrites the asserts of every module of every package that has a pytest plugin (hypothesis,
schemathesis, faker, mockserver itself: some 500 modules) and of the tests, and caches the result as
bytecode. With PYTHONDONTWRITEBYTECODE=1 (this development machine; many container images) it writes no
cache, so every process (each xdist worker too) parses, rewrites and compiles them all again: about
15 s of a 20 s collection (docs/performance.md, "Test loop"). Loaded with `-p` from pyproject's addopts,
before the plugins' entry points, this keeps the user's wish to find no `.pyc` beside the sources (theirs
or site-packages'): the bytecode goes to one directory, `.pytest_cache/pycache`, and is written there.
The child Pythons the tests start (`mockserver` commands, served processes, the docs' blocks, pytest runs)
are told the same through the environment: each compiled the modules it imported again, some 0.1 s of
CPU a process over several hundred processes. Without PYTHONDONTWRITEBYTECODE nothing changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PREFIX = Path(__file__).resolve().parent.parent / ".pytest_cache" / "pycache"


def route_bytecode(prefix: Path = PREFIX) -> bool:
    """Write bytecode under `prefix` if the environment forbids writing it beside the sources; True if so."""
    if not sys.dont_write_bytecode or sys.pycache_prefix:  # writing already, or the user chose a place
        return False
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    return True


if route_bytecode():  # children: the same directory (the variables a Python reads at start-up)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PREFIX)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
