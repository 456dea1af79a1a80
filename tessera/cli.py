"""The requester's commands of ``tessera``: login, signup, me, deposit, project, batch, review.

Every command takes ``--url`` and ``--api-key`` (else ``TESSERA_URL``/``TESSERA_API_KEY``, else
what ``tessera login`` saved) and ``--json``: one JSON document on stdout, nothing else there.
Progress goes to stderr: a live bar on a terminal, plain lines otherwise.

Exit codes: 0 done; 1 refused by the service (other); 2 bad usage or input; 3 not signed in or
not allowed (401/403); 4 not found; 5 not enough funds (402); 6 conflict (409); 7 service
unreachable; 8 partly done (an upload with refused files, a review with failed rows); 9 a batch
that ended cancelled (``batch watch``).
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from tessera.client import (
    APIError,
    Client,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    PaymentRequired,
    Unauthorized,
    models,
)

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
EXIT_FUNDS, EXIT_CONFLICT, EXIT_UNREACHABLE, EXIT_PARTIAL, EXIT_CANCELLED = 5, 6, 7, 8, 9
COMMANDS = ("login", "signup", "me", "balance", "deposit", "project", "batch", "review")


class UsageError(Exception):
    pass


def config_path() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "tessera" / "credentials.json"


def _saved() -> dict[str, str]:
    try:
        data = json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(url: str, api_key: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"url": url, "api_key": api_key}, out)
    return path


def _connect(args: argparse.Namespace, *, anonymous: bool = False) -> Client:
    saved = _saved()
    url = args.url or os.environ.get("TESSERA_URL") or saved.get("url")
    key = (
        None
        if anonymous
        else (args.api_key or os.environ.get("TESSERA_API_KEY") or saved.get("api_key"))
    )
    if not anonymous and not key:
        raise UsageError(
            "no API key: run `tessera login`, or set TESSERA_API_KEY, or pass --api-key"
        )
    return Client(url, key or "")


class Out:
    """Where a command speaks: JSON on stdout with --json; text on stdout; progress on stderr."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = bool(args.json)
        self.tty = sys.stderr.isatty() and not self.json and not args.no_progress

    def result(self, data: Any, text: str | Callable[[], str]) -> None:
        if self.json:
            print(json.dumps(data, default=str, indent=None))
        else:
            print(text() if callable(text) else text)

    def note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    @contextmanager
    def progress(
        self, label: str, total: int | None
    ) -> Iterator[Callable[[int, int | None], None]]:
        """``update(done, total)``: a rich bar on a terminal, else a line every ~2 s (and at the
        end) on stderr (also with --json: stdout stays one JSON document)."""
        if self.tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=False,
            ) as bar:
                task = bar.add_task(label, total=total)

                def update(done: int, new_total: int | None = None) -> None:
                    bar.update(
                        task,
                        completed=done,
                        total=new_total if new_total and new_total > 0 else None,
                    )

                yield update
            return
        last: list[Any] = [0.0, -1, total]
        latest: list[Any] = [None, total]

        def show(done: int, shown_total: int | None) -> None:
            last[1], last[2] = done, shown_total
            of = f"/{shown_total}" if shown_total else ""
            print(f"{label}: {done}{of}", file=sys.stderr, flush=True)

        def plain(done: int, new_total: int | None = None) -> None:
            now = time.monotonic()
            shown_total = new_total if new_total and new_total > 0 else total
            latest[0], latest[1] = done, shown_total
            if done != last[1] and (now - last[0] >= 2 or done == shown_total):
                last[0] = now
                show(done, shown_total)

        yield plain
        if latest[0] is not None and latest[0] != last[1]:
            show(latest[0], latest[1])


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"${value}"


def _dump(model: models.Model) -> dict[str, Any]:
    return model.model_dump(mode="json")


# Commands
def cmd_login(args: argparse.Namespace, out: Out) -> int:
    key = args.api_key or os.environ.get("TESSERA_API_KEY")
    if not key:
        if not sys.stdin.isatty():
            key = sys.stdin.readline().strip()
        else:
            key = getpass.getpass("API key: ").strip()
    if not key:
        raise UsageError("no API key given")
    url = (
        args.url or os.environ.get("TESSERA_URL") or _saved().get("url") or "http://127.0.0.1:8000"
    )
    with Client(url, key) as c:
        me = c.me()
    path = _save(c.url, key)
    out.result(
        {**_dump(me), "url": c.url, "saved_to": str(path)},
        f"signed in to {c.url} as {me.name} ({me.role}, {me.id}); key saved to {path}",
    )
    return EXIT_OK


def cmd_signup(args: argparse.Namespace, out: Out) -> int:
    with _connect(args, anonymous=True) as c:
        account = c.create_account(args.role, args.name)
        path = _save(c.url, account.api_key) if not args.no_save else None
    out.result(
        {**_dump(account), "saved_to": str(path) if path else None},
        f"{account.role} {account.id} ({account.name}) created; API key (shown once):\n"
        f"{account.api_key}" + (f"\nsaved to {path}" if path else ""),
    )
    return EXIT_OK


def cmd_me(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        me = c.me()
    balance = ", ".join(f"{k} {_money(v)}" for k, v in me.balance.items())
    out.result(_dump(me), f"{me.name} ({me.role}, {me.id}): {balance}")
    return EXIT_OK


def cmd_deposit(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        deposit = c.deposit(args.amount, idempotency_key=args.idempotency_key)
    out.result(
        _dump(deposit),
        f"deposited {_money(deposit.amount)}; available {_money(deposit.balance.get('available'))}",
    )
    return EXIT_OK


def _load_spec(path: str) -> dict[str, Any]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            spec = yaml.safe_load(text)
        else:
            spec = json.loads(text)
    except Exception as exc:
        raise UsageError(
            f"{path}: not valid {'YAML' if path.endswith(('.yaml', '.yml')) else 'JSON'}: {exc}"
        ) from None
    if not isinstance(spec, dict):
        raise UsageError(f"{path}: the spec must be a mapping")
    return spec


def cmd_project_create(args: argparse.Namespace, out: Out) -> int:
    spec = _load_spec(args.spec)
    with _connect(args) as c:
        project = c.create_project(spec)
    out.result(_dump(project), f"project {project.id} ({project.name}) created")
    return EXIT_OK


def cmd_project_list(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        projects = list(c.projects())
    out.result(
        [_dump(p) for p in projects],
        lambda: (
            "\n".join(f"{p.id}  {p.name}  reward {_money(p.reward)}" for p in projects)
            or "no projects"
        ),
    )
    return EXIT_OK


def cmd_batch_upload(args: argparse.Namespace, out: Out) -> int:
    source = Path(args.source)
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    labels = Path(args.labels) if args.labels else None
    if labels is not None and not labels.is_file():
        raise UsageError(f"{labels}: no such labels file")
    with _connect(args) as c, out.progress("uploading", None) as update:
        try:
            report = c.upload_batch(
                args.project,
                source,
                manifest=args.manifest,
                parallel=args.parallel,
                chunk_files=args.chunk_files,
                progress=lambda done, total: update(done, total),
                labels=labels,
            )
        except ValueError as exc:  # an unreadable labels file or an empty source
            raise UsageError(str(exc)) from None
    data = report.as_dict()
    lines = [
        f"batch {report.batch_id}: {report.added} added, {report.present} already there, "
        f"{report.already_done} done earlier, {report.duplicates} duplicate files, "
        f"{len(report.refused)} refused",
        *(f"refused {key}: {why}" for key, why in report.refused.items()),
        *(_label_line(entry) for entry in report.labels),
        f"manifest: {report.manifest} (run the same command again to resume)",
    ]
    out.result(data, "\n".join(lines))
    return EXIT_OK if report.ok else EXIT_PARTIAL


def _label_line(entry: dict[str, Any]) -> str:
    problems = entry.get("problems") or []
    head = f"labels {entry.get('file')}: {entry.get('images', 0)} images, "
    head += f"{entry.get('objects', 0)} objects"
    return head + "".join(f"\n  {p}" for p in problems[:10])


def _max_cost(batch: models.Batch, project: Any) -> Decimal:
    overlap = (batch.overlap or project.overlap or {}).get("max", 1)
    return Decimal(batch.task_count) * Decimal(overlap) * Decimal(project.reward)


def cmd_batch_launch(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        batch = c.get_batch(args.batch)
        project = c.get_project(batch.project_id)
        available = c.me().balance.get("available", Decimal(0))
        quote = batch.launch_quote
        if quote is not None:
            cost = (
                f"escrows {_money(quote.total)} ({quote.answers} answers at most × "
                f"{_money(quote.reward)} reward + {_money(quote.fee)} fee)"
            )
        else:
            cost = (
                f"escrows at most {_money(_max_cost(batch, project))} (tasks × max overlap × "
                "reward) plus the platform fee"
            )
        out.note(
            f"batch {batch.id}: {batch.task_count} tasks; {cost}; available {_money(available)}"
        )
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    "launching spends money: confirm with --yes (stdin is not a terminal)"
                )
            if input("Launch? [y/N] ").strip().lower() not in ("y", "yes"):
                out.note("not launched")
                return EXIT_USAGE
        launched = c.launch_batch(batch.id)
    out.result(
        _dump(launched),
        f"batch {launched.id} is {launched.status}; escrowed {_money(launched.money.escrowed)}",
    )
    return EXIT_OK


def _status_line(b: models.Batch) -> str:
    counts = b.counts
    eta = b.progress.eta.isoformat() if b.progress.eta else "-"
    return (
        f"batch {b.id} {b.status}: {counts.get('completed_tasks', 0)}/{b.task_count} tasks, "
        f"{counts.get('answers', 0)} answers, spent {_money(b.money.spent)} of "
        f"{_money(b.money.escrowed)} escrowed, ETA {eta}"
    )


def cmd_batch_status(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        batch = c.get_batch(args.batch)
    out.result(_dump(batch), _status_line(batch))
    return EXIT_OK


def cmd_batch_watch(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        batch = c.get_batch(args.batch)
        deadline = None if args.timeout is None else time.monotonic() + args.timeout
        with out.progress(f"batch {batch.id}", batch.task_count) as update:
            while True:
                update(batch.counts.get("completed_tasks", 0), batch.task_count)
                if not out.tty:
                    out.note(_status_line(batch))
                if batch.done:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    out.result(_dump(batch), _status_line(batch))
                    return EXIT_PARTIAL
                time.sleep(args.interval)
                batch = c.get_batch(args.batch)
    out.result(_dump(batch), _status_line(batch))
    return EXIT_CANCELLED if batch.status == "cancelled" else EXIT_OK


def cmd_batch_results(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        items = list(c.results(args.batch, include_answers=args.answers))
    out.result(
        [_dump(i) for i in items],
        lambda: "\n".join(json.dumps(_dump(i), default=str) for i in items),
    )
    return EXIT_OK


def cmd_batch_export(args: argparse.Namespace, out: Out) -> int:
    dest = Path(args.output)
    received = [0]
    with _connect(args) as c, out.progress(f"downloading {args.format}", None) as update:

        def on_bytes(n: int) -> None:
            received[0] += n
            update(received[0], None)

        if args.format == "images":
            c.download_images(args.batch, dest, on_bytes=on_bytes)
        else:
            c.export(args.batch, args.format, dest, images=args.images, on_bytes=on_bytes)
    size = dest.stat().st_size
    out.result({"path": str(dest), "bytes": size}, f"wrote {dest} ({size} bytes)")
    return EXIT_OK


def cmd_batch_list(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        batches = list(c.batches(args.project))
    out.result(
        [_dump(b) for b in batches],
        lambda: "\n".join(_status_line(b) for b in batches) or "no batches",
    )
    return EXIT_OK


def cmd_batch_cancel(args: argparse.Namespace, out: Out) -> int:
    with _connect(args) as c:
        batch = c.cancel_batch(args.batch)
    out.result(_dump(batch), _status_line(batch))
    return EXIT_OK


def cmd_review(args: argparse.Namespace, out: Out) -> int:
    """Rows of ``assignment_id,action[,reason][,amount]``; action accept | reject | bonus."""
    with Path(args.csv).open(newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"assignment_id", "action"} <= set(rows[0]):
        raise UsageError(f"{args.csv}: needs the columns assignment_id,action (and reason, amount)")
    done: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    with _connect(args) as c, out.progress("reviewing", len(rows)) as update:
        for n, row in enumerate(rows, 1):
            action, aid = (
                (row.get("action") or "").strip().lower(),
                (row.get("assignment_id") or "").strip(),
            )
            reason = (row.get("reason") or "").strip()
            try:
                if action == "accept":
                    c.accept(aid)
                elif action == "reject":
                    c.reject(aid, reason or "Rejected on review.")
                elif action == "bonus":
                    # One key per row and file: re-running the same CSV pays each bonus once.
                    key = f"review-{aid}-{row.get('amount')}-{Path(args.csv).name}"
                    c.bonus(
                        aid,
                        (row.get("amount") or "").strip(),
                        reason or "Bonus",
                        idempotency_key=key,
                    )
                else:
                    raise UsageError(
                        f"row {n}: action must be accept, reject or bonus, not {action!r}"
                    )
                done.append({"row": n, "assignment_id": aid, "action": action})
            except (APIError, UsageError) as exc:
                failed.append({"row": n, "assignment_id": aid, "action": action, "error": str(exc)})
            update(n, len(rows))
    out.result(
        {"done": done, "failed": failed},
        "\n".join(
            [
                f"{len(done)} done, {len(failed)} failed",
                *(f"row {f['row']} {f['assignment_id']}: {f['error']}" for f in failed),
            ]
        ),
    )
    return EXIT_PARTIAL if failed else EXIT_OK


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the service (default $TESSERA_URL, then `tessera login`'s)")
    common.add_argument("--api-key", help="default $TESSERA_API_KEY, then `tessera login`'s")
    common.add_argument("--json", action="store_true", help="one JSON document on stdout")
    common.add_argument("--no-progress", action="store_true", help="plain progress lines")

    def leaf(
        parent: Any, name: str, func: Callable[..., int], help: str
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, parents=[common], help=help)
        p.set_defaults(func=_wrap(func))
        return p

    leaf(sub, "login", cmd_login, "check an API key and save it for the next commands")
    p = leaf(sub, "signup", cmd_signup, "create an account and save its key")
    p.add_argument("name", help="the account's display name")
    p.add_argument(
        "--role",
        choices=["requester", "worker"],
        default="requester",
        help="requester (default): posts images; worker: annotates them",
    )
    p.add_argument("--no-save", action="store_true", help="print the key only, do not save it")
    leaf(sub, "me", cmd_me, "who you are and your balance")
    leaf(sub, "balance", cmd_me, "your balance")
    p = leaf(sub, "deposit", cmd_deposit, "add funds")
    p.add_argument("amount", help="dollars, e.g. 25 or 12.50")
    p.add_argument("--idempotency-key", help="repeat a deposit safely with the same key")

    project = sub.add_parser("project", help="projects: create, list")
    psub = project.add_subparsers(dest="project_command", required=True)
    p = leaf(psub, "create", cmd_project_create, "create a project from a YAML or JSON spec")
    p.add_argument("spec", help="spec.yaml, spec.json, or - for stdin (JSON)")
    leaf(psub, "list", cmd_project_list, "your projects")

    batch = sub.add_parser("batch", help="batches: upload, launch, status, watch, results, export")
    bsub = batch.add_subparsers(dest="batch_command", required=True)
    p = leaf(bsub, "upload", cmd_batch_upload, "upload a folder, a .zip or a URL list (resumable)")
    p.add_argument("project")
    p.add_argument("source", help="a folder of images, a .zip, or a .txt of image URLs")
    p.add_argument("--manifest", help="where to record progress (default under ~/.cache/tessera)")
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--chunk-files", type=int, default=64)
    p.add_argument(
        "--labels",
        metavar="FILE",
        help="a COCO JSON of labels for these images: imported as their pre-annotations",
    )
    leaf(bsub, "list", cmd_batch_list, "a project's batches").add_argument("project")
    p = leaf(bsub, "launch", cmd_batch_launch, "open a batch to workers (shows the cost first)")
    p.add_argument("batch")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask")
    for name, func, text in (
        ("status", cmd_batch_status, "a batch's status, counts and money"),
        ("cancel", cmd_batch_cancel, "stop a batch; the unspent escrow comes back"),
    ):
        leaf(bsub, name, func, text).add_argument("batch")
    for name in ("watch", "wait"):
        p = leaf(bsub, name, cmd_batch_watch, "follow a batch until it completes")
        p.add_argument("batch")
        p.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
        p.add_argument("--timeout", type=float, default=None, help="give up after (exit 8)")
    p = leaf(bsub, "results", cmd_batch_results, "every task's consensus answer (JSON lines)")
    p.add_argument("batch")
    p.add_argument("--answers", action="store_true", help="with every worker's answer")
    p = leaf(bsub, "export", cmd_batch_export, "download results as COCO, YOLO, VOC, CSV or masks")
    p.add_argument("batch")
    p.add_argument(
        "--format",
        default="coco",
        help="coco, yolo, voc, csv, masks, … (what the project's type offers), or images",
    )
    p.add_argument("--images", action="store_true", help="a zip with the images as well")
    p.add_argument("-o", "--output", required=True)

    p = leaf(sub, "review", cmd_review, "accept, reject or bonus answers from a CSV")
    p.add_argument(
        "csv", help="columns assignment_id,action,reason,amount (action: accept|reject|bonus)"
    )


def _wrap(func: Callable[[argparse.Namespace, Out], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
        out = Out(args)
        try:
            return func(args, out)
        except UsageError as exc:
            return _fail(out, EXIT_USAGE, "usage", str(exc))
        except (Unauthorized, Forbidden) as exc:
            return _fail(out, EXIT_AUTH, "auth", str(exc), exc.problem)
        except NotFound as exc:
            return _fail(out, EXIT_NOT_FOUND, "not_found", str(exc), exc.problem)
        except PaymentRequired as exc:
            return _fail(out, EXIT_FUNDS, "funds", str(exc), exc.problem)
        except Conflict as exc:
            return _fail(out, EXIT_CONFLICT, "conflict", str(exc), exc.problem)
        except APIError as exc:
            code = EXIT_USAGE if exc.status in (400, 413, 415, 422) else EXIT_API
            return _fail(out, code, "refused", str(exc), exc.problem)
        except ConnectionFailed as exc:
            return _fail(out, EXIT_UNREACHABLE, "unreachable", str(exc))
        except KeyboardInterrupt:
            return _fail(out, 130, "interrupted", "interrupted")

    return run


def _fail(
    out: Out, code: int, kind: str, message: str, problem: dict[str, Any] | None = None
) -> int:
    if out.json:
        print(json.dumps({"error": kind, "message": message, "problem": problem, "exit": code}))
    print(f"tessera: {message}", file=sys.stderr)
    return code
