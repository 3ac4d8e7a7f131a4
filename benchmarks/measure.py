"""Timing a command as a user runs it: a whole process (imports, loading, validation included),
its wall time and the peak memory of its whole process tree (a Spark JVM or a worker counts too),
the median of a few runs.

Used by every benchmark here; needs ``psutil`` (the ``bench`` extra).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

POLL_SECONDS = 0.05
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")


@dataclass(frozen=True)
class Measured:
    """The median run of ``runs`` (by wall time) and the largest peak among them."""

    name: str
    runs: tuple[Run, ...]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)

    @property
    def ok(self) -> bool:
        return all(r.returncode == 0 for r in self.runs)

    @property
    def last(self) -> Run:
        return self.runs[-1]

    def line(self, width: int = 34) -> str:
        spread = ", ".join(f"{r.seconds:.2f}" for r in self.runs)
        status = "" if self.ok else f"  FAILED (exit {self.last.returncode}): {_last_line(self.last.stderr)}"
        return (f"{self.name:<{width}} {self.seconds:9.2f} s  peak {self.peak_mb:8.0f} MB"
                f"  (runs: {spread}){status}")


def run(command: list[str], *, env: dict | None = None, timeout: float | None = None) -> Run:
    """Run ``command`` once; poll the resident memory of it and its descendants until it ends."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak[0] = max(peak[0], sum(_rss(p) for p in tree))
            except psutil.NoSuchProcess:
                pass
            done.wait(POLL_SECONDS)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        stdout, stderr = process.communicate()
        stderr += f"\nstopped after {timeout:.0f} s"
    seconds = time.perf_counter() - started
    done.set()
    watcher.join()
    return Run(seconds, peak[0] / 2**20, process.returncode, stdout, stderr)


def measure(name: str, command: list[str], repeat: int = 3, **options) -> Measured:
    runs = []
    for _ in range(repeat):
        runs.append(run(command, **options))
        if runs[-1].returncode != 0:
            break  # a failure does not get better with repetition
    return Measured(name, tuple(runs))


def custfocus(*args: str) -> list[str]:
    """The command line as installed: ``custfocus ARGS`` (from this checkout's sources)."""
    return [sys.executable, "-m", "custfocus", *map(str, args)]


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *map(str, args)]


def source_env() -> dict:
    """This checkout's sources first on the path, so the benchmark measures them."""
    return {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}


def ratio_line(label: str, ours: Measured, other: Measured, target: str) -> str:
    if not (ours.ok and other.ok):
        return f"{label}: not comparable (a run failed)"
    return (f"{label}: {other.seconds / ours.seconds:6.2f}x  ({target}); "
            f"peak memory {ours.peak_mb:,.0f} MB vs {other.peak_mb:,.0f} MB")


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def _kill_tree(pid: int) -> None:
    root = psutil.Process(pid)
    for child in root.children(recursive=True):
        child.kill()
    root.kill()


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
