"""``tessera serve`` (and friends) as subprocesses for fault tests: each in its own process
group, killed with the group on every path (``Processes.stop_all`` runs as a finalizer)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tessera_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(
        {
            "TESSERA_DATABASE_URL": database_url,
            "TESSERA_DATA_DIR": str(data_dir),
            "TESSERA_ENV": "test",
            "TESSERA_MIGRATE_ON_START": "false",
            **extra,
        }
    )
    return env


@dataclass
class Processes:
    """Children started by one test; ``stop_all`` kills every process group it made."""

    log_dir: Path
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        child = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg takes uvicorn's children too
        )
        log.close()
        self.children.append(child)
        return child

    def serve(
        self, env: dict[str, str], *, name: str = "serve"
    ) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        child = self.start(
            name, ["serve", "--port", str(port), "--no-access-log", "--log-level", "warning"], env
        )
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, child, self.log_dir / f"{name}.log")
        return child, url

    def kill(self, child: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            pass
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=10)

    def stop_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                self.kill(child, signal.SIGTERM)
            else:  # the leader is gone; its group may not be
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def wait_healthy(url: str, child: subprocess.Popen[bytes], log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"serve exited with {child.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"serve did not become healthy: {log.read_text()[-2000:]}")
