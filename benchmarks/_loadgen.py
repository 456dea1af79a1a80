"""A small closed-loop HTTP/1.1 load generator for the benchmarks (asyncio + uvloop, keep-alive).

Each of N connections runs a *scenario* (one or more requests) in a loop until the phase ends;
that is N concurrent clients, each waiting for its answer before asking again. Requests are
pre-encoded bytes and responses are parsed just enough (status line, Content-Length), so the
client spends a few tens of microseconds per request; ``Phase.client_cpu`` reports how much CPU
it actually used, so a reader can check it was not the bottleneck.

Only requests that *complete* inside the measured window (after the warm-up, before the end)
count; requests still in flight at the end are dropped.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


class HttpError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    @staticmethod
    def encode(
        method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> bytes:
        """Pre-encode a request once; send the same bytes many times."""
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        assert self.reader is not None
        assert self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        low = head.lower()
        i = low.find(b"\r\ncontent-length:")
        if i >= 0:
            j = low.find(b"\r\n", i + 2)
            length = int(low[i + 17 : j])
            body = await self.reader.readexactly(length) if length else b""
        elif b"transfer-encoding: chunked" in low:
            raise HttpError("chunked responses are not supported by this client")
        else:
            body = b""
        return status, body


@dataclass
class Recorder:
    """Latencies (seconds) of requests that completed inside [start, end]."""

    start: float
    end: float
    lat: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    units: int = 0  # completed scenario iterations (e.g. lease+submit pairs)
    exhausted: bool = False

    def ok(self, kind: str, t0: float, t1: float) -> bool:
        """Record one finished request; True if it counts (inside the window)."""
        if self.start <= t1 <= self.end:
            self.lat.setdefault(kind, []).append(t1 - t0)
            return True
        return False

    def error(self, kind: str, status: int) -> None:
        key = f"{kind}:{status}"
        self.errors[key] = self.errors.get(key, 0) + 1


Scenario = Callable[[Conn, Recorder, int], Awaitable[None]]
"""``scenario(conn, recorder, client_index)``: one iteration of one client."""


@dataclass
class Phase:
    name: str
    seconds: float
    requests: int
    units: int
    lat: dict[str, list[float]]
    errors: dict[str, int]
    client_cpu: float  # CPU seconds used by this (client) process per wall second: 1.0 = one core
    exhausted: bool

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def ups(self) -> float:
        return self.units / self.seconds

    def pct(self, kind: str, q: float) -> float:
        """Latency percentile in milliseconds."""
        xs = sorted(self.lat.get(kind, []))
        if not xs:
            return float("nan")
        return 1000 * xs[min(len(xs) - 1, int(q * len(xs)))]


async def run_phase(
    name: str, port: int, clients: int, scenario: Scenario, *, seconds: float, warmup: float = 1.0
) -> Phase:
    conns = [Conn(port) for _ in range(clients)]
    await asyncio.gather(*(c.open() for c in conns))
    now = time.perf_counter()
    rec = Recorder(start=now + warmup, end=now + warmup + seconds)
    cpu0 = time.process_time()

    async def loop(conn: Conn, index: int) -> None:
        while time.perf_counter() < rec.end and not rec.exhausted:
            await scenario(conn, rec, index)

    try:
        await asyncio.wait_for(
            asyncio.gather(*(loop(c, i) for i, c in enumerate(conns))),
            timeout=warmup + seconds + 30,
        )
    finally:
        for c in conns:
            c.close()
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - now)
    requests = sum(len(v) for v in rec.lat.values())
    return Phase(name, seconds, requests, rec.units, rec.lat, rec.errors, cpu, rec.exhausted)


def get_scenario(kind: str, path: str, headers: dict[str, str] | None = None) -> Scenario:
    raw = Conn.encode("GET", path, headers)

    async def scenario(conn: Conn, rec: Recorder, _index: int) -> None:
        t0 = time.perf_counter()
        status, _ = await conn.send(raw)
        t1 = time.perf_counter()
        if status != 200:
            rec.error(kind, status)
        elif rec.ok(kind, t0, t1):
            rec.units += 1

    return scenario


def run(coro: Awaitable[Any]) -> Any:
    """Run with uvloop when available (it is: uvicorn[standard] brings it)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)  # type: ignore[arg-type]
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)  # type: ignore[arg-type]


def median(xs: Iterable[float]) -> float:
    return statistics.median(list(xs))


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (numbers formatted), printed as is and pasted into the README."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
        return str(v)

    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def machine_note() -> str:
    load = os.getloadavg()
    return f"cpus={os.cpu_count()} loadavg(1,5,15)={load[0]:.2f},{load[1]:.2f},{load[2]:.2f}"


def code_version() -> str:
    """The code measured (read-only ``git describe``): the service changes fast, figures go stale."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def wait_http(port: int, path: str, timeout: float = 60.0) -> None:
    """Block until GET path answers 200 (the server is up)."""
    import socket

    deadline = time.monotonic() + timeout
    raw = Conn.encode("GET", path)
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(raw)
                if s.recv(64)[9:12] == b"200":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"nothing answered 200 on 127.0.0.1:{port}{path} within {timeout:.0f}s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
