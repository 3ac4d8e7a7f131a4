"""Scratch folders in the temporary directory that never outlive the process that made them.

Each folder is removed by whichever comes first: the ``with`` block that owns it ending (normally or
by an exception), its owner being garbage-collected, the interpreter exiting, or SIGTERM (turned into
an ordinary exit so that the same clean-up runs). Only a SIGKILL can leave one behind.
"""

from __future__ import annotations

import atexit
import shutil
import signal
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_live: set[Path] = set()
_hooks_installed = False


def scratch_dir(prefix: str, owner: object | None = None) -> Path:
    """A new private folder, removed at exit at the latest (or when ``owner`` is collected)."""
    _install_exit_hooks()
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _live.add(path)
    if owner is not None:
        weakref.finalize(owner, remove, path)
    return path


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A scratch folder for the length of a ``with`` block."""
    path = scratch_dir(prefix)
    try:
        yield path
    finally:
        remove(path)


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    _live.discard(path)


def remove_all() -> None:
    for path in list(_live):
        remove(path)


def _exit_on_sigterm(signum, frame):
    # SystemExit unwinds every ``with`` block and then runs atexit, which removes what is left.
    raise SystemExit(128 + signum)


def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(remove_all)
    # Only where nobody chose a handler already, and only from the main thread (Python's rule).
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
