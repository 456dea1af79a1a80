"""The requester's CLI run as a user would: ``tessera …`` in a subprocess against a live server,
without a terminal, its --json output parsed like a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tessera.client import Client
from tests.client.conftest import Live
from tests.client.test_upload import write_images
from tests.conftest import FakeClock
from workers.money import SettleBatches
from workers.runner import run_pass

SPEC_YAML = """\
name: Pets
instructions: Is it a cat or a dog?
annotation:
  type: classification
  labels: [cat, dog]
reward: "0.05"
overlap: {min: 1, max: 1}
gold_rate: 0
"""


class CLI:
    def __init__(self, live: Live, home: Path) -> None:
        self.env = {
            **os.environ,
            "TESSERA_URL": live.url,
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "PYTHONPATH": str(Path(__file__).parents[2]),
        }
        self.env.pop("TESSERA_API_KEY", None)

    def cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "app.cli", *args]

    def run(self, *args: str, code: int = 0, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.cmd(*args), env=self.env, input=stdin, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code).stdout)


@pytest.fixture
def cli(live: Live, tmp_path: Path) -> CLI:
    return CLI(live, tmp_path)


def test_a_requester_session_from_the_command_line(
    cli: CLI, live: Live, tmp_path: Path, clock: FakeClock
) -> None:
    account = cli.json("signup", "Rita")
    assert account["role"] == "requester"
    assert Path(account["saved_to"]).stat().st_mode & 0o777 == 0o600
    me = cli.json("login", "--api-key", account["api_key"])
    assert me["id"] == account["id"]
    assert cli.json("deposit", "20")["balance"]["available"] == "20"
    assert cli.json("balance")["balance"]["available"] == "20"

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC_YAML)
    project = cli.json("project", "create", str(spec))
    assert [p["id"] for p in cli.json("project", "list")] == [project["id"]]

    write_images(tmp_path / "photos", 30)
    (tmp_path / "photos" / "notes.txt").write_text("not an image: ignored")
    (tmp_path / "photos" / "sub0" / "broken.png").write_bytes(b"not really")
    upload = cli.run(
        "batch",
        "upload",
        project["id"],
        str(tmp_path / "photos"),
        "--json",
        "--chunk-files",
        "8",
        code=8,
    )
    report = json.loads(upload.stdout)
    assert report["added"] == 30
    assert list(report["refused"]) == [str(tmp_path / "photos" / "sub0" / "broken.png")]
    assert "uploading: 31/31" in upload.stderr  # plain progress lines, not a bar
    batch_id = report["batch_id"]
    again = cli.json("batch", "upload", project["id"], str(tmp_path / "photos"), code=8)
    assert (again["batch_id"], again["already_done"], again["added"]) == (batch_id, 30, 0)

    # Launch spends money: without a terminal it needs --yes.
    refused = cli.run("batch", "launch", batch_id, code=2)
    assert "--yes" in refused.stderr
    assert "escrows $1.65" in refused.stderr  # the launch quote, shown before asking
    assert cli.json("batch", "launch", batch_id, "--yes")["status"] == "open"
    assert [b["id"] for b in cli.json("batch", "list", project["id"])] == [batch_id]
    status = cli.json("batch", "status", batch_id)
    assert status["task_count"] == 30

    # Workers answer every task; the requester follows along and reviews from a CSV.
    watch = subprocess.Popen(
        cli.cmd("batch", "watch", batch_id, "--interval", "0.2", "--timeout", "90", "--json"),
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with Client(live.url) as anon:
        worker = Client(live.url, anon.create_account("worker", "Walt").api_key)
    while (lease := worker.lease(project["id"])) is not None:
        worker.submit(lease.id, {"label": "cat"})
    worker.close()
    with Client(live.url, account["api_key"]) as requester:
        answers = list(requester.batch_assignments(batch_id))
    rows = ["assignment_id,action,reason,amount"]
    rows += [f"{a.id},accept,," for a in answers[1:]]
    rows += [
        f"{answers[0].id},reject,that is a dog,",
        f"{answers[1].id},bonus,tidy,0.10",
        "asg_nope,accept,,",
    ]
    (tmp_path / "review.csv").write_text("\n".join(rows) + "\n")
    review = cli.json("review", str(tmp_path / "review.csv"), code=8)
    assert len(review["done"]) == 31
    assert [f["assignment_id"] for f in review["failed"]] == ["asg_nope"]
    clock.advance(30 * 86400)  # past the appeal window of the rejected answer
    run_pass(live.app.state.sessionmaker, [SettleBatches()], clock())
    out, err = watch.communicate(timeout=100)
    assert watch.returncode == 0, err
    final = json.loads(out)
    assert final["status"] == "completed"
    assert f"batch {batch_id} open" in err  # a status line per poll on a non-terminal

    results = cli.json("batch", "results", batch_id)
    assert len(results) == 30
    exported = cli.json(
        "batch", "export", batch_id, "--format", "csv", "-o", str(tmp_path / "r.csv")
    )
    assert exported["bytes"] == (tmp_path / "r.csv").stat().st_size
    assert len((tmp_path / "r.csv").read_text().strip().splitlines()) == 31  # header + a row each
    cli.json("batch", "export", batch_id, "--format", "images", "-o", str(tmp_path / "img.zip"))
    with zipfile.ZipFile(tmp_path / "img.zip") as zf:
        names = zf.namelist()
    assert sum(n.endswith(".png") for n in names) == 30


def test_exit_codes_a_script_can_rely_on(cli: CLI, tmp_path: Path) -> None:
    missing = cli.json("batch", "status", "bat_x", code=2)  # no key yet
    assert missing["error"] == "usage"
    account = cli.json("signup", "Rita")
    gone = cli.json("batch", "status", "bat_nope", code=4)
    assert gone["problem"]["status"] == 404
    assert cli.json("me", "--api-key", "wrong", code=3)["error"] == "auth"
    broke = cli.json("deposit", "-5", code=2)
    assert broke["problem"]["status"] == 422
    assert cli.json("me", "--url", "http://127.0.0.1:9", code=7)["error"] == "unreachable"
    spec = tmp_path / "bad.json"
    spec.write_text("{not json")
    assert cli.json("project", "create", str(spec), code=2)["error"] == "usage"
    assert account["api_key"]
    # serve/worker/aggregate are still there.
    help_text = cli.run("--help").stdout
    for command in ("serve", "worker", "aggregate", "batch", "project", "login"):
        assert command in help_text


BOX_SPEC = {
    "name": "Cars",
    "annotation": {"type": "bbox", "labels": ["car", "person"]},
    "reward": "0.05",
    "overlap": {"min": 1, "max": 1},
    "gold_rate": 0,
}


def test_batch_upload_with_coco_labels_beside_the_images(
    cli: CLI, live: Live, tmp_path: Path
) -> None:
    """``--labels coco.json``: each chunk carries its own images' part of the file, so every
    image gets its boxes as a pre-annotation whatever the chunking; what does not fit is
    reported per file (a category that is not a project label, an image not uploaded)."""
    account = cli.json("signup", "Rita")
    spec = tmp_path / "cars.json"
    spec.write_text(json.dumps(BOX_SPEC))
    project = cli.json("project", "create", str(spec), "--api-key", account["api_key"])
    paths = write_images(tmp_path / "photos", 10)
    names = [p.relative_to(tmp_path / "photos").as_posix() for p in paths]
    coco = {
        "images": [
            {"id": i + 1, "file_name": name, "width": 8 + i % 5, "height": 8}
            for i, name in enumerate([*names, "missing.png"])
        ],
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "tree"}],
        "annotations": [
            {"id": 1, "image_id": i + 1, "category_id": 1, "bbox": [1, 1, 4, 3]}
            for i in range(len(names))
        ]
        + [{"id": 99, "image_id": 1, "category_id": 2, "bbox": [0, 0, 2, 2]}],
    }
    labels = tmp_path / "coco.json"
    labels.write_text(json.dumps(coco))
    done = cli.run(
        "batch", "upload", project["id"], str(tmp_path / "photos"), "--labels", str(labels),
        "--chunk-files", "3", "--json", "--api-key", account["api_key"],
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["added"] == 10
    assert len(report["labels"]) == 4  # one entry per chunk's part of the file
    assert sum(entry["images"] for entry in report["labels"]) == 10
    problems = " ".join(p for entry in report["labels"] for p in entry.get("problems", []))
    assert "tree" in problems
    with Client(live.url, account["api_key"]) as requester:
        items = list(requester.results(report["batch_id"]))
        batch = requester.get_batch(report["batch_id"])
    assert batch.task_count == 10
    pre = requester_pre_annotations(live, report["batch_id"])
    assert len(pre) == 10
    assert all(p == {"objects": [{"label": "car", "box": [1.0, 1.0, 4.0, 3.0]}]} for p in pre)
    assert len(items) == 10

    human = cli.run(
        "batch", "upload", project["id"], str(tmp_path / "photos"), "--labels",
        str(tmp_path / "nope.json"), "--api-key", account["api_key"], code=2,
    )  # fmt: skip
    assert "nope.json" in human.stderr


def requester_pre_annotations(live: Live, batch_id: str) -> list[Any]:
    from sqlalchemy import select

    from app.models import Task

    with live.app.state.sessionmaker() as session:
        return list(
            session.scalars(select(Task.pre_annotation).where(Task.batch_id == batch_id)).all()
        )
