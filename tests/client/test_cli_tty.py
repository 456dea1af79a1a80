"""The CLI on a terminal: run in a pseudo-terminal (``pty``), it draws rich progress bars and
asks before spending money; the same commands without a terminal print plain lines (the
non-TTY runs are in test_cli.py). POSIX only."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.client.conftest import Live
from tests.client.test_cli import CLI, SPEC_YAML
from tests.client.test_upload import write_images

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """A command whose stdin, stdout and stderr are one pseudo-terminal, as in a shell."""

    def __init__(self, cli: CLI, *args: str) -> None:
        master, slave = pty.openpty()
        env = {**cli.env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(
            cli.cmd(*args), env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.raw = b""

    def read_until(self, marker: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.raw:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{marker!r} never came: {self.raw[-2000:]!r}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, deadline - time.monotonic())):
            pass
        code = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return code, self.raw.decode(errors="replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal (it exited)
            return False
        self.raw += chunk
        return bool(chunk)


@pytest.fixture
def cli(live: Live, tmp_path: Path) -> CLI:
    return CLI(live, tmp_path)


def test_on_a_terminal_upload_draws_a_bar_and_launch_asks(cli: CLI, tmp_path: Path) -> None:
    account = cli.json("signup", "Rita")
    cli.json("login", "--api-key", account["api_key"])
    cli.json("deposit", "20")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_YAML)
    project = cli.json("project", "create", str(spec))
    write_images(tmp_path / "photos", 24)

    upload = Terminal(
        cli, "batch", "upload", project["id"], str(tmp_path / "photos"), "--chunk-files", "4"
    )
    code, screen = upload.finish()
    assert code == 0, screen
    text = ANSI.sub("", screen)
    assert "\x1b[" in screen  # a terminal is drawn on: cursor moves and colours
    assert re.search(r"uploading\s*━+\s*24/24", text), text  # rich's bar, its count at the end
    assert "uploading: " not in text  # not the plain lines of a non-terminal
    batch_id = re.search(r"batch (bat_\w+): 24 added", text)
    assert batch_id is not None, text

    launch = Terminal(cli, "batch", "launch", batch_id.group(1))
    launch.read_until(b"Launch? [y/N]")
    assert b"escrows $" in launch.raw  # the cost is shown before the question
    launch.type("y\n")
    code, screen = launch.finish()
    assert code == 0, screen
    assert f"batch {batch_id.group(1)} is open" in ANSI.sub("", screen)

    # The same question answered "no" on a terminal: nothing is launched, exit code 2.
    spare = cli.json("batch", "upload", project["id"], str(tmp_path / "photos"), "--manifest",
                     str(tmp_path / "other.manifest"))  # fmt: skip
    declined = Terminal(cli, "batch", "launch", spare["batch_id"])
    declined.read_until(b"Launch? [y/N]")
    declined.type("n\n")
    code, screen = declined.finish()
    assert code == 2, screen
    assert "not launched" in screen
    assert cli.json("batch", "status", spare["batch_id"])["status"] == "draft"


def test_without_a_terminal_the_output_is_for_scripts(cli: CLI, tmp_path: Path) -> None:
    """The non-TTY side: plain progress lines on stderr, one JSON document on stdout that a
    script parses, and no escape codes anywhere."""
    account = cli.json("signup", "Rita")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_YAML)
    key = ["--api-key", account["api_key"]]
    project = cli.json("project", "create", str(spec), *key)
    write_images(tmp_path / "photos", 9)
    done = cli.run(
        "batch", "upload", project["id"], str(tmp_path / "photos"), "--chunk-files", "3",
        "--json", *key,
    )  # fmt: skip
    assert "\x1b[" not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert (report["added"], report["refused"]) == (9, {})
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == "uploading: 9/9"
    assert all(re.fullmatch(r"uploading: \d+/9", line) for line in lines), lines
