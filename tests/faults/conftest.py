from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.serve import Processes


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Subprocesses of one test, every one killed (with its process group) however it ends."""
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
