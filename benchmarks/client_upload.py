"""The Python client's upload against curl's multipart, the same run, the same server.

    .venv/bin/python benchmarks/client_upload.py                      # 5,000 images of ~200 KB
    .venv/bin/python benchmarks/client_upload.py --images 1000 --parallel 4 --chunk 64

Two sets of distinct noise JPEGs (~200 KB each) are written to a temporary folder, one per
contender (the image store keeps one file per content, so a shared set would favour whichever
runs second). ``tessera serve`` (SQLite, ``--server-workers`` processes) is started on a free
port, and two requesters each upload their set into a new batch:

- **curl**: the batch created with the first chunk (``curl -F files=@…`` × chunk), then every
  other chunk sent by ``curl`` to ``POST /v1/batches/{id}/images``, one after the other: the way
  a shell script uploads a folder too big for one request.
- **client**: ``Client.upload_batch(project, folder)`` in its own process (``--parallel`` chunks
  at once, files streamed from disk, a manifest written), so its peak RSS is its own.

Reported: wall time, images/s and MB/s for each, the ratio, CPU seconds of each contender's
processes, the client's peak RSS, and the task count of both batches (must equal --images).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tessera.client import Client  # noqa: E402

CLIENT_RUN = """
import json, resource, sys, time
from tessera.client import Client
url, key, project, folder, manifest, parallel, chunk = sys.argv[1:]
start = time.perf_counter()
with Client(url, key, timeout=600) as c:
    report = c.upload_batch(project, folder, manifest=manifest, parallel=int(parallel),
                            chunk_files=int(chunk))
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "batch_id": report.batch_id, "added": report.added,
                  "rss_mb": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_images(folder: Path, n: int, size_kb: int, seed: int) -> int:
    """Noise JPEGs of about ``size_kb``; returns the total bytes."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    side = 256
    for _ in range(4):  # find the side that gives about size_kb at JPEG quality 85
        trial = folder / "trial.jpg"
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(
            trial, format="JPEG", quality=85
        )
        side = int(side * (size_kb * 1024 / trial.stat().st_size) ** 0.5)
        trial.unlink()
    base = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    total = 0
    for i in range(n):
        pixels = np.roll(base, i, axis=1)
        # A fresh noise tile per image: every file is distinct after JPEG compression too (a
        # repeated file would be skipped by the client and merged by the server).
        pixels[:64, :64] = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        path = folder / f"img{i:05d}.jpg"
        Image.fromarray(pixels).save(path, format="JPEG", quality=85)
        total += path.stat().st_size
    return total


def start_server(data: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TESSERA_DATA_DIR": str(data), "TESSERA_RUN_RECONCILERS": "false"}
    env.pop("TESSERA_DATABASE_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with Client(url, None) as c:
                c.healthz()
            return proc
        except Exception:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def curl_upload(
    url: str, key: str, project: str, folder: Path, chunk: int
) -> tuple[float, str, float]:
    files = sorted(folder.glob("*.jpg"))
    chunks = [files[i : i + chunk] for i in range(0, len(files), chunk)]
    cpu0, start = children_cpu(), time.perf_counter()

    def post(path: str, part: list[Path]) -> dict[str, object]:
        args = ["curl", "-sS", "-H", f"Authorization: Bearer {key}", "--max-time", "600"]
        for f in part:
            args += ["-F", f"files=@{f};type=image/jpeg"]
        args += ["-w", "\n%{http_code}"]
        out = subprocess.run([*args, url + path], check=True, capture_output=True, text=True)
        body, _, code = out.stdout.rpartition("\n")
        if not code.startswith("2"):
            raise SystemExit(f"curl: HTTP {code}: {body[:500]}")
        return dict(json.loads(body))

    batch_id = str(post(f"/v1/projects/{project}/batches", chunks[0])["id"])
    for part in chunks[1:]:
        post(f"/v1/batches/{batch_id}/images", part)
    return time.perf_counter() - start, batch_id, children_cpu() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--size-kb", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--server-workers", type=int, default=2)
    args = parser.parse_args()
    spec = {
        "name": "Bench",
        "annotation": {"type": "classification", "labels": ["a", "b"]},
        "reward": "0.01",
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        total_a = make_images(tmp / "curl", args.images, args.size_kb, seed=1)
        total_b = make_images(tmp / "client", args.images, args.size_kb, seed=2)
        print(
            f"{args.images} images per contender, {total_a / args.images / 1024:.0f} KB "
            f"average, written in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        port = free_port()
        server = start_server(tmp / "data", port, args.server_workers)
        url = f"http://127.0.0.1:{port}"
        try:
            with Client(url, None) as anon:
                keys = [anon.create_account("requester", n).api_key for n in ("curl", "client")]
            projects = []
            for key in keys:
                with Client(url, key) as c:
                    projects.append(c.create_project(spec).id)

            curl_wall, curl_batch, curl_cpu = curl_upload(
                url, keys[0], projects[0], tmp / "curl", args.chunk
            )
            cpu0 = children_cpu()
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CLIENT_RUN,
                    url,
                    keys[1],
                    projects[1],
                    str(tmp / "client"),
                    str(tmp / "manifest.jsonl"),
                    str(args.parallel),
                    str(args.chunk),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            client_cpu = children_cpu() - cpu0
            result = json.loads(out.stdout.strip().splitlines()[-1])
            counts = []
            for key, batch in ((keys[0], curl_batch), (keys[1], result["batch_id"])):
                with Client(url, key) as c:
                    counts.append(c.get_batch(batch).task_count)
        finally:
            server.terminate()
            server.wait(timeout=30)
    mb_a, mb_b = total_a / 2**20, total_b / 2**20
    rows = [
        ("curl (sequential chunks)", curl_wall, mb_a, curl_cpu, counts[0], "-"),
        (
            f"client (parallel={args.parallel})",
            result["wall"],
            mb_b,
            client_cpu,
            counts[1],
            f"{result['rss_mb']:.0f} MB",
        ),
    ]
    print(
        f"{'contender':28} {'wall s':>8} {'img/s':>8} {'MB/s':>7} {'cpu s':>7} {'tasks':>6} {'peak RSS':>9}"
    )
    for name, wall, mb, cpu, tasks, rss in rows:
        print(
            f"{name:28} {wall:8.1f} {args.images / wall:8.1f} {mb / wall:7.1f} {cpu:7.2f} "
            f"{tasks:6d} {rss:>9}"
        )
    print(
        f"client / curl throughput: {curl_wall / result['wall']:.2f}x "
        f"(chunks of {args.chunk}, server workers {args.server_workers})"
    )
    if counts != [args.images, args.images]:
        raise SystemExit(f"task counts {counts}, expected {args.images} each")


if __name__ == "__main__":
    main()
