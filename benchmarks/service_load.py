"""Load on `custfocus serve`: answers per second and latency from concurrent clients.

Starts the real server (``python -m custfocus serve``) on a fresh database, creates a submit key,
and lets ``--clients`` concurrent clients (one keep-alive connection each) post NPS answers, each
with its own Idempotency-Key, for ``--seconds``. Every answer is acknowledged only after its commit
(SQLite: WAL with synchronous=FULL, so an fsync per commit group). The baseline, in the same run
against the same server, is ``GET /healthz`` (HTTP and one database read, no write); the ratio shows
what storing an answer costs over answering at all. Latency is measured per request, from sending
it to reading the whole answer.

    python benchmarks/service_load.py [--clients 16] [--seconds 20] [--db sqlite:///...]

Target on a 2-core machine: at least 300 answers/s with p99 under 250 ms from 16 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from custfocus.service import create_key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def one_client(port: int, requests: list[bytes], deadline: float, latencies: list[float], failures: list[str]):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            if time.perf_counter() > deadline:
                return
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            if status >= 300:
                failures.append(f"HTTP {status}")
    finally:
        writer.close()


def answer_request(port: int, key: str, number: int) -> bytes:
    body = json.dumps({"kind": "nps", "score": number % 11, "customer_id": f"C{number % 5000:05d}",
                       "comment": f"benchmark answer {number}", "touchpoint": "web"}).encode()
    return (f"POST /api/v1/responses HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
            f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def health_request(port: int, key: str, number: int) -> bytes:
    return f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


async def run_load(port: int, key: str, clients: int, seconds: float, make) -> tuple[int, float, list[float], list[str]]:
    per_client = 400 * int(seconds) + 100  # more than any client can send in time
    plans = [[make(port, key, c * per_client + i) for i in range(per_client)] for c in range(clients)]
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(one_client(port, plan, started + seconds, latencies, failures) for plan in plans))
    return len(latencies), time.perf_counter() - started, latencies, failures


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used so far; None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="custfocus-service-bench-"))
    db = args.db or f"sqlite:///{folder}/custfocus.db"
    key = create_key(db, ["submit"], name="benchmark")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "custfocus", "serve", "--db", db, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"custfocus serve, {db.split(':')[0]}, {args.clients} concurrent clients, {args.seconds:g} s each run, "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run")
        results = {}
        for name, make in (("GET /healthz (baseline)", health_request), ("POST /api/v1/responses", answer_request)):
            cpu_before = cpu_seconds(server.pid)
            count, elapsed, latencies, failures = asyncio.run(run_load(port, key, args.clients, args.seconds, make))
            cpu_after = cpu_seconds(server.pid)
            results[name] = count / elapsed
            # CPU per request depends less on what else the machine runs than requests per second do.
            cpu = (f"   server CPU {1000 * (cpu_after - cpu_before) / count:5.2f} ms/request"
                   if cpu_before is not None and cpu_after is not None else "")
            print(f"{name:26s} {count / elapsed:8.0f} /s   p50 {1000 * percentile(latencies, 0.5):6.1f} ms   "
                  f"p99 {1000 * percentile(latencies, 0.99):6.1f} ms   ({count:,} requests, {len(failures)} failed){cpu}")
        answers, health = results["POST /api/v1/responses"], results["GET /healthz (baseline)"]
        print(f"answers per second as a share of the baseline's requests per second: {answers / health:.2f}")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
