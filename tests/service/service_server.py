"""A real `custfocus serve` process for the tests: start, SIGKILL, start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `custfocus serve` process that a test can start, SIGKILL and start again."""

    def __init__(self, db: str, log_dir, env: dict | None = None, args: tuple[str, ...] = ()):
        self.db, self.port, self.args = db, free_port(), args
        self.env = {**os.environ, **(env or {})}
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        self.starts += 1
        log = open(self.log_dir / f"server-{self.port}-{self.starts}.log", "w")  # noqa: SIM115 (kept by the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "custfocus", "serve", "--db", self.db, "--port", str(self.port), *self.args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start in {timeout} s: {self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return (self.log_dir / f"server-{self.port}-{self.starts}.log").read_text()[-3000:]


class Receiver:
    """A webhook endpoint that fails its first ``failures`` calls with 500, then records what it gets."""

    def __init__(self, failures: int = 1, port: int = 0):
        self.calls: list[dict] = []
        self.failures_left = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures_left:
                    receiver.failures_left -= 1
                    self.send_response(500)
                else:
                    receiver.calls.append({"headers": dict(self.headers), "body": body})
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
