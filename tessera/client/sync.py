"""``Client``: the blocking client (httpx.Client)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tessera.client import models as m
from tessera.client import ops
from tessera.client._http import Op, RetryPolicy, check, clean_params, retry_delay
from tessera.client.errors import ConnectionFailed
from tessera.client.upload import Progress, Uploader, UploadReport

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8000"


def base_url(url: str | None) -> str:
    return (url or os.environ.get("TESSERA_URL") or DEFAULT_URL).rstrip("/")


def auth_headers(api_key: str | None) -> dict[str, str]:
    key = api_key if api_key is not None else os.environ.get("TESSERA_API_KEY")
    headers = {"User-Agent": "tessera-client/0.1", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


class Client:
    """``Client(url, api_key)``; both default to ``TESSERA_URL`` and ``TESSERA_API_KEY``.

    Every call retries connection failures, 429 and 502/503/504 (waiting what ``Retry-After``
    says), with the same Idempotency-Key each time; any other error raises the typed
    ``APIError`` subclass carrying the problem document.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = base_url(url)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.url,
            headers=auth_headers(api_key),
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # The engine: run one described call, with retries.
    def run(self, op: Op[T]) -> T:
        headers, replay_safe = op.prepare()
        attempt = 0
        while True:
            with ExitStack() as stack:
                try:
                    response = self._http.request(
                        op.method, op.path, headers=headers, **op.request_kwargs(stack)
                    )
                except httpx.TransportError as exc:
                    delay = retry_delay(self.retry, attempt, error=exc, replay_safe=replay_safe)
                    if delay is None:
                        raise ConnectionFailed(f"{op.method} {op.path}: {exc!r}") from exc
                else:
                    delay = retry_delay(self.retry, attempt, response=response, replay_safe=True)
                    if delay is None:
                        return op.parse(response)
            self._sleep(delay)
            attempt += 1

    def _iterate(self, make: Callable[[str | None], Op[ops.PageOf]]) -> Iterator[Any]:
        cursor: str | None = None
        while True:
            items, cursor = self.run(make(cursor))
            yield from items
            if not cursor:
                return

    # Health
    def healthz(self) -> Any:
        return self.run(ops.healthz())

    def readyz(self) -> Any:
        return self.run(ops.readyz())

    # Accounts and keys
    def create_account(
        self, role: str, name: str, *, email: str | None = None, password: str | None = None
    ) -> m.AccountCreated:
        return self.run(ops.create_account(role, name, email, password))

    def me(self) -> m.Me:
        return self.run(ops.me())

    def api_keys(self) -> list[m.ApiKey]:
        return self.run(ops.list_api_keys())[0]

    def create_api_key(self, name: str) -> m.ApiKeyCreated:
        return self.run(ops.create_api_key(name))

    def delete_api_key(self, key_id: str) -> None:
        self.run(ops.delete_api_key(key_id))

    # Money
    def deposit(self, amount: ops.Money, *, idempotency_key: str | None = None) -> m.Deposit:
        return self.run(ops.deposit(amount, idempotency_key))

    def ledger(self, *, limit: int | None = None) -> Iterator[m.LedgerEntry]:
        return self._iterate(lambda c: ops.ledger(c, limit))

    def payout(
        self, amount: ops.Money | None = None, *, idempotency_key: str | None = None
    ) -> m.Payout:
        return self.run(ops.payout(amount, idempotency_key))

    def get_payout(self, payout_id: str) -> m.Payout:
        return self.run(ops.get_payout(payout_id))

    # Projects
    def create_project(self, spec: Mapping[str, Any]) -> m.Project:
        return self.run(ops.create_project(spec))

    def projects(self, *, limit: int | None = None) -> Iterator[Any]:
        """The requester's projects (``Project``), or for a worker the open ones (``OpenProject``)."""
        return self._iterate(lambda c: ops.list_projects(c, limit))

    def get_project(self, project_id: str) -> Any:
        return self.run(ops.get_project(project_id))

    def update_project(self, project_id: str, changes: Mapping[str, Any]) -> m.Project:
        return self.run(ops.update_project(project_id, changes))

    def add_gold(self, project_id: str, image: ops.ImageSource, answer: Any) -> m.Gold:
        return self.run(ops.add_gold(project_id, image, answer))

    def import_gold(
        self,
        project_id: str,
        files: Sequence[ops.ImageSource],
        *,
        labels_format: str | None = None,
    ) -> m.GoldImport:
        """Gold tasks from images and label files (or a dataset zip): each image a label file
        answers becomes gold; ``labels`` reports what did not match."""
        return self.run(ops.import_gold(project_id, files, labels_format))

    def create_model(self, project_id: str, spec: Mapping[str, Any]) -> m.AnnotatorModelCreated:
        """Attach a model: ``{"kind": "http", "name", "url"}`` or ``{"kind": "builtin",
        "name"}``; an http model's ``signing_secret`` is in this answer only."""
        return self.run(ops.create_model(project_id, spec))

    def models(self, project_id: str, *, limit: int | None = None) -> Iterator[m.AnnotatorModel]:
        return self._iterate(lambda c: ops.list_models(project_id, c, limit))

    def delete_model(self, project_id: str, model_id: str) -> None:
        self.run(ops.delete_model(project_id, model_id))

    # Batches
    def create_batch(
        self,
        project_id: str,
        images: Sequence[ops.ImageSource] | None = None,
        *,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> m.Batch:
        """One request: multipart files (paths are streamed) or a JSON body (URLs, base64).
        For many images use ``upload_batch``."""
        return self.run(ops.create_batch(project_id, images, json=json, key=idempotency_key))

    def add_images(
        self,
        batch_id: str,
        images: Sequence[ops.ImageSource] | None = None,
        *,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> m.BatchImages:
        return self.run(ops.add_images(batch_id, images, json=json, key=idempotency_key))

    def upload_batch(
        self,
        project_id: str,
        source: str | Path | Sequence[str | Path],
        *,
        manifest: str | Path | None = None,
        parallel: int = 4,
        chunk_files: int = 64,
        chunk_bytes: int = 32 * 1024 * 1024,
        progress: Progress | None = None,
        labels: str | Path | None = None,
    ) -> UploadReport:
        """Upload a folder, a zip, a URL list (``.txt``, one per line) or a list of paths into
        a new draft batch, in parallel chunks, streaming each file; resumable: run it again with
        the same manifest after a crash and it sends only what the batch does not hold yet.
        ``labels``: a COCO JSON beside the images, imported as their pre-annotations (each chunk
        carries its images' part; ``report.labels`` is the service's report per file)."""
        uploader = Uploader(
            self.run,
            project_id,
            source,
            manifest=manifest,
            parallel=parallel,
            chunk_files=chunk_files,
            chunk_bytes=chunk_bytes,
            progress=progress,
            labels=labels,
        )
        return uploader.run()

    def batches(self, project_id: str, *, limit: int | None = None) -> Iterator[m.Batch]:
        """The project's batches."""
        return self._iterate(lambda c: ops.list_batches(project_id, c, limit))

    def launch_batch(self, batch_id: str, *, idempotency_key: str | None = None) -> m.Batch:
        return self.run(ops.launch_batch(batch_id, idempotency_key))

    def cancel_batch(self, batch_id: str) -> m.Batch:
        return self.run(ops.cancel_batch(batch_id))

    def get_batch(self, batch_id: str) -> m.Batch:
        return self.run(ops.get_batch(batch_id))

    def wait_batch(
        self,
        batch_id: str,
        *,
        interval_s: float = 5.0,
        timeout_s: float | None = None,
        on_update: Callable[[m.Batch], None] | None = None,
    ) -> m.Batch:
        """Poll until the batch is completed or cancelled (``TimeoutError`` after ``timeout_s``)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            batch = self.get_batch(batch_id)
            if on_update is not None:
                on_update(batch)
            if batch.done:
                return batch
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"batch {batch_id} is still {batch.status}")
            self._sleep(interval_s)

    def results(
        self,
        batch_id: str,
        *,
        include_answers: bool = False,
        limit: int | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        status: str | None = None,
        worker_id: str | None = None,
        verdict: str | None = None,
    ) -> Iterator[m.Result]:
        """Every task's consensus (all pages), optionally filtered like the results gallery."""
        filters = {
            "min_confidence": min_confidence,
            "max_confidence": max_confidence,
            "status": status,
            "worker_id": worker_id,
            "verdict": verdict,
        }
        return self._iterate(lambda c: ops.results(batch_id, c, limit, include_answers, filters))

    def export(
        self,
        batch_id: str,
        fmt: str,
        dest: str | Path,
        *,
        images: bool = False,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Path:
        """Stream ``?format=coco|yolo|voc|csv|masks|…`` (with the images: ``images=True``) to
        ``dest``, written whole or not at all."""
        return self.download(
            f"/v1/batches/{batch_id}/results",
            dest,
            params=ops.export_params(fmt, images),
            on_bytes=on_bytes,
        )

    def download_images(
        self, batch_id: str, dest: str | Path, *, on_bytes: Callable[[int], None] | None = None
    ) -> Path:
        """The batch's images under their names, with ``manifest.csv``, as one zip."""
        return self.download(f"/v1/batches/{batch_id}/images.zip", dest, on_bytes=on_bytes)

    def download(
        self,
        path: str,
        dest: str | Path,
        *,
        params: Mapping[str, Any] | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Path:
        dest = Path(dest)
        partial = dest.with_name(dest.name + ".part")
        attempt = 0
        while True:
            try:
                with self._http.stream("GET", path, params=clean_params(params)) as response:
                    delay = retry_delay(self.retry, attempt, response=response, replay_safe=True)
                    if delay is None:
                        if response.status_code >= 400:
                            response.read()
                            check(response)
                        with partial.open("wb") as out:
                            for chunk in response.iter_bytes(1 << 16):
                                out.write(chunk)
                                if on_bytes is not None:
                                    on_bytes(len(chunk))
                        partial.replace(dest)
                        return dest
            except httpx.TransportError as exc:
                delay = retry_delay(self.retry, attempt, error=exc, replay_safe=True)
                if delay is None:
                    raise ConnectionFailed(f"GET {path}: {exc!r}") from exc
            self._sleep(delay)
            attempt += 1

    def batch_assignments(
        self, batch_id: str, *, status: str | None = None, limit: int | None = None
    ) -> Iterator[m.Review]:
        return self._iterate(lambda c: ops.batch_assignments(batch_id, c, limit, status))

    # Review
    def accept(self, assignment_id: str) -> m.Assignment:
        return self.run(ops.accept(assignment_id))

    def reject(self, assignment_id: str, reason: str) -> m.Assignment:
        return self.run(ops.reject(assignment_id, reason))

    def bonus(
        self,
        assignment_id: str,
        amount: ops.Money,
        reason: str,
        *,
        idempotency_key: str | None = None,
    ) -> m.Bonus:
        return self.run(ops.bonus(assignment_id, amount, reason, idempotency_key))

    def appeal(self, assignment_id: str, message: str) -> m.Assignment:
        return self.run(ops.appeal(assignment_id, message))

    def grant_appeal(self, assignment_id: str, reason: str) -> m.Assignment:
        return self.run(ops.answer_appeal(assignment_id, True, reason))

    def deny_appeal(self, assignment_id: str, reason: str) -> m.Assignment:
        return self.run(ops.answer_appeal(assignment_id, False, reason))

    # Work
    def lease(self, project_id: str) -> m.Lease | None:
        """The next task of the project, or None when nothing is available to this worker."""
        return self.run(ops.lease(project_id))

    def submit(self, assignment_id: str, answer: Any) -> m.Assignment:
        return self.run(ops.submit(assignment_id, answer))

    def release(self, assignment_id: str, reason: str = "skipped") -> m.Assignment:
        return self.run(ops.release(assignment_id, reason))

    def my_assignments(self, *, limit: int | None = None) -> Iterator[m.Assignment]:
        return self._iterate(lambda c: ops.my_assignments(c, limit))

    def my_skills(self) -> list[m.Standing]:
        return self.run(ops.my_skills())

    def image(self, url_or_id: str) -> bytes:
        """An image's bytes, by id or by the (signed) ``image_url`` of a lease or a result."""
        return self.run(ops.image(url_or_id))

    # Operator
    def admin_settings(self) -> m.PlatformSettings:
        return self.run(ops.admin_settings())

    def update_admin_settings(self, changes: Mapping[str, Any]) -> m.PlatformSettings:
        return self.run(ops.update_admin_settings(changes))

    def settings_history(self, *, limit: int | None = None) -> Iterator[m.SettingsChange]:
        return self._iterate(lambda c: ops.settings_history(c, limit))

    def admin_workers(self, *, limit: int | None = None) -> Iterator[m.WorkerRow]:
        return self._iterate(lambda c: ops.admin_workers(c, limit))

    def batch_stats(self, batch_id: str) -> Any:
        """The dashboard's figures: completions over time, confidence distribution, answers per
        task against fixed overlap, the workers with the most answers."""
        return self.run(ops.batch_stats(batch_id))

    def admin_payouts(
        self, *, status: str | None = None, limit: int | None = None
    ) -> Iterator[m.AdminPayout]:
        """The payout queue, newest first; ``status``: open, requested, pending, paid, failed."""
        return self._iterate(lambda c: ops.admin_payouts(c, limit, status))

    def ban(self, worker_id: str, reason: str, *, project_id: str | None = None) -> m.WorkerRow:
        return self.run(ops.ban(worker_id, reason, project_id))

    def unban(self, worker_id: str, *, project_id: str | None = None) -> m.WorkerRow:
        return self.run(ops.unban(worker_id, project_id))

    def verify_ledger(self) -> m.LedgerCheck:
        return self.run(ops.verify_ledger())

    def admin_stats(self) -> Any:
        return self.run(ops.admin_stats())

    # Webhooks
    def create_webhook(
        self, url: str, events: Sequence[str], *, secret: str | None = None
    ) -> m.Webhook:
        """Register ``url`` for ``events``; the returned ``secret`` is shown this once."""
        return self.run(ops.create_webhook(url, events, secret))

    def webhooks(self, *, limit: int | None = None) -> Iterator[m.Webhook]:
        return self._iterate(lambda c: ops.list_webhooks(c, limit))

    def get_webhook(self, webhook_id: str) -> m.Webhook:
        return self.run(ops.get_webhook(webhook_id))

    def delete_webhook(self, webhook_id: str) -> None:
        self.run(ops.delete_webhook(webhook_id))

    def ping_webhook(self, webhook_id: str) -> m.Ping:
        """Queue a signed ``ping`` event to the webhook; see ``webhook_deliveries``."""
        return self.run(ops.ping_webhook(webhook_id))

    def webhook_deliveries(
        self, webhook_id: str, *, limit: int | None = None
    ) -> Iterator[m.WebhookDelivery]:
        return self._iterate(lambda c: ops.webhook_deliveries(webhook_id, c, limit))

    # Annotation assistants: suggestions for the task a lease holds (docs/ASSIST.md)
    def box_to_polygon(
        self, assignment_id: str, box: Sequence[float], label: str
    ) -> m.AssistAnswer:
        """An outline of the object in ``box`` ([x, y, w, h]) as a polygon answer."""
        return self.run(
            ops.assist(
                "box_to_polygon", {"assignment_id": assignment_id, "box": list(box), "label": label}
            )
        )

    def box_to_mask(self, assignment_id: str, box: Sequence[float], label: str) -> m.AssistAnswer:
        """The object in ``box`` as a segmentation answer (a mask with the label's value)."""
        return self.run(
            ops.assist(
                "box_to_mask", {"assignment_id": assignment_id, "box": list(box), "label": label}
            )
        )

    def superpixel(
        self, assignment_id: str, point: Sequence[float], label: str, *, segments: int = 400
    ) -> m.AssistAnswer:
        """The superpixel under ``point`` as a segmentation answer."""
        body = {
            "assignment_id": assignment_id,
            "point": list(point),
            "label": label,
            "segments": segments,
        }
        return self.run(ops.assist("superpixel", body))

    def snap(
        self, assignment_id: str, point: Sequence[float], *, radius: float | None = None
    ) -> m.Snap:
        """The nearest strong edge to ``point`` within ``radius`` pixels."""
        return self.run(ops.snap(assignment_id, point, radius))
