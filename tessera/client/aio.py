"""``AsyncClient``: the asyncio client (httpx.AsyncClient); the same calls as ``Client``,
awaited, with ``async for`` over paginated lists. Both run the same ``ops``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tessera.client import models as m
from tessera.client import ops
from tessera.client._http import Op, RetryPolicy, content, retry_delay
from tessera.client.errors import ConnectionFailed
from tessera.client.sync import auth_headers, base_url
from tessera.client.upload import Progress, Uploader, UploadReport

T = TypeVar("T")


class AsyncClient:
    """``AsyncClient(url, api_key)``: see ``Client`` for the retry and error rules."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = base_url(url)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=auth_headers(api_key),
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def run(self, op: Op[T]) -> T:
        headers, replay_safe = op.prepare()
        attempt = 0
        while True:
            with ExitStack() as stack:
                try:
                    response = await self._http.request(
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
            await self._sleep(delay)
            attempt += 1

    async def _iterate(self, make: Callable[[str | None], Op[ops.PageOf]]) -> AsyncIterator[Any]:
        cursor: str | None = None
        while True:
            items, cursor = await self.run(make(cursor))
            for item in items:
                yield item
            if not cursor:
                return

    async def healthz(self) -> Any:
        return await self.run(ops.healthz())

    async def readyz(self) -> Any:
        return await self.run(ops.readyz())

    async def create_account(
        self, role: str, name: str, *, email: str | None = None, password: str | None = None
    ) -> m.AccountCreated:
        return await self.run(ops.create_account(role, name, email, password))

    async def me(self) -> m.Me:
        return await self.run(ops.me())

    async def api_keys(self) -> list[m.ApiKey]:
        return (await self.run(ops.list_api_keys()))[0]

    async def create_api_key(self, name: str) -> m.ApiKeyCreated:
        return await self.run(ops.create_api_key(name))

    async def delete_api_key(self, key_id: str) -> None:
        await self.run(ops.delete_api_key(key_id))

    async def deposit(self, amount: ops.Money, *, idempotency_key: str | None = None) -> m.Deposit:
        return await self.run(ops.deposit(amount, idempotency_key))

    def ledger(self, *, limit: int | None = None) -> AsyncIterator[m.LedgerEntry]:
        return self._iterate(lambda c: ops.ledger(c, limit))

    async def payout(
        self, amount: ops.Money | None = None, *, idempotency_key: str | None = None
    ) -> m.Payout:
        return await self.run(ops.payout(amount, idempotency_key))

    async def get_payout(self, payout_id: str) -> m.Payout:
        return await self.run(ops.get_payout(payout_id))

    async def create_project(self, spec: Mapping[str, Any]) -> m.Project:
        return await self.run(ops.create_project(spec))

    def projects(self, *, limit: int | None = None) -> AsyncIterator[Any]:
        return self._iterate(lambda c: ops.list_projects(c, limit))

    async def get_project(self, project_id: str) -> Any:
        return await self.run(ops.get_project(project_id))

    async def update_project(self, project_id: str, changes: Mapping[str, Any]) -> m.Project:
        return await self.run(ops.update_project(project_id, changes))

    async def add_gold(self, project_id: str, image: ops.ImageSource, answer: Any) -> m.Gold:
        return await self.run(ops.add_gold(project_id, image, answer))

    async def import_gold(
        self,
        project_id: str,
        files: Sequence[ops.ImageSource],
        *,
        labels_format: str | None = None,
    ) -> m.GoldImport:
        """Gold tasks from images and label files (or a dataset zip), as ``Client.import_gold``."""
        return await self.run(ops.import_gold(project_id, files, labels_format))

    async def create_model(
        self, project_id: str, spec: Mapping[str, Any]
    ) -> m.AnnotatorModelCreated:
        return await self.run(ops.create_model(project_id, spec))

    def models(
        self, project_id: str, *, limit: int | None = None
    ) -> AsyncIterator[m.AnnotatorModel]:
        return self._iterate(lambda c: ops.list_models(project_id, c, limit))

    async def delete_model(self, project_id: str, model_id: str) -> None:
        await self.run(ops.delete_model(project_id, model_id))

    async def create_batch(
        self,
        project_id: str,
        images: Sequence[ops.ImageSource] | None = None,
        *,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> m.Batch:
        return await self.run(ops.create_batch(project_id, images, json=json, key=idempotency_key))

    async def add_images(
        self,
        batch_id: str,
        images: Sequence[ops.ImageSource] | None = None,
        *,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> m.BatchImages:
        return await self.run(ops.add_images(batch_id, images, json=json, key=idempotency_key))

    async def upload_batch(
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
        """``Client.upload_batch``: hashing and the manifest run in threads, the requests on
        this event loop."""
        loop = asyncio.get_running_loop()

        def run_here(op: Op[Any]) -> Any:
            return asyncio.run_coroutine_threadsafe(self.run(op), loop).result()

        uploader = Uploader(
            run_here,
            project_id,
            source,
            manifest=manifest,
            parallel=parallel,
            chunk_files=chunk_files,
            chunk_bytes=chunk_bytes,
            progress=progress,
            labels=labels,
        )
        return await asyncio.to_thread(uploader.run)

    def batches(self, project_id: str, *, limit: int | None = None) -> AsyncIterator[m.Batch]:
        return self._iterate(lambda c: ops.list_batches(project_id, c, limit))

    async def launch_batch(self, batch_id: str, *, idempotency_key: str | None = None) -> m.Batch:
        return await self.run(ops.launch_batch(batch_id, idempotency_key))

    async def cancel_batch(self, batch_id: str) -> m.Batch:
        return await self.run(ops.cancel_batch(batch_id))

    async def get_batch(self, batch_id: str) -> m.Batch:
        return await self.run(ops.get_batch(batch_id))

    async def wait_batch(
        self, batch_id: str, *, interval_s: float = 5.0, timeout_s: float | None = None
    ) -> m.Batch:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            batch = await self.get_batch(batch_id)
            if batch.done:
                return batch
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"batch {batch_id} is still {batch.status}")
            await self._sleep(interval_s)

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
    ) -> AsyncIterator[m.Result]:
        """Every task's consensus (all pages), optionally filtered like the results gallery."""
        filters = {
            "min_confidence": min_confidence,
            "max_confidence": max_confidence,
            "status": status,
            "worker_id": worker_id,
            "verdict": verdict,
        }
        return self._iterate(lambda c: ops.results(batch_id, c, limit, include_answers, filters))

    async def export(
        self, batch_id: str, fmt: str, dest: str | Path, *, images: bool = False
    ) -> Path:
        """The download in memory, then to ``dest``; ``Client.export`` streams big ones."""
        params = ops.export_params(fmt, images)
        path = f"/v1/batches/{batch_id}/results"
        return await self._save(Op("GET", path, content, params=params), dest)

    async def download_images(self, batch_id: str, dest: str | Path) -> Path:
        return await self._save(Op("GET", f"/v1/batches/{batch_id}/images.zip", content), dest)

    async def _save(self, op: Op[bytes], dest: str | Path) -> Path:
        dest = Path(dest)
        data = await self.run(op)
        await asyncio.to_thread(dest.write_bytes, data)
        return dest

    def batch_assignments(
        self, batch_id: str, *, status: str | None = None, limit: int | None = None
    ) -> AsyncIterator[m.Review]:
        return self._iterate(lambda c: ops.batch_assignments(batch_id, c, limit, status))

    async def accept(self, assignment_id: str) -> m.Assignment:
        return await self.run(ops.accept(assignment_id))

    async def reject(self, assignment_id: str, reason: str) -> m.Assignment:
        return await self.run(ops.reject(assignment_id, reason))

    async def bonus(
        self,
        assignment_id: str,
        amount: ops.Money,
        reason: str,
        *,
        idempotency_key: str | None = None,
    ) -> m.Bonus:
        return await self.run(ops.bonus(assignment_id, amount, reason, idempotency_key))

    async def appeal(self, assignment_id: str, message: str) -> m.Assignment:
        return await self.run(ops.appeal(assignment_id, message))

    async def grant_appeal(self, assignment_id: str, reason: str) -> m.Assignment:
        return await self.run(ops.answer_appeal(assignment_id, True, reason))

    async def deny_appeal(self, assignment_id: str, reason: str) -> m.Assignment:
        return await self.run(ops.answer_appeal(assignment_id, False, reason))

    async def lease(self, project_id: str) -> m.Lease | None:
        return await self.run(ops.lease(project_id))

    async def submit(self, assignment_id: str, answer: Any) -> m.Assignment:
        return await self.run(ops.submit(assignment_id, answer))

    async def release(self, assignment_id: str, reason: str = "skipped") -> m.Assignment:
        return await self.run(ops.release(assignment_id, reason))

    def my_assignments(self, *, limit: int | None = None) -> AsyncIterator[m.Assignment]:
        return self._iterate(lambda c: ops.my_assignments(c, limit))

    async def my_skills(self) -> list[m.Standing]:
        return await self.run(ops.my_skills())

    async def image(self, url_or_id: str) -> bytes:
        return await self.run(ops.image(url_or_id))

    async def admin_settings(self) -> m.PlatformSettings:
        return await self.run(ops.admin_settings())

    async def update_admin_settings(self, changes: Mapping[str, Any]) -> m.PlatformSettings:
        return await self.run(ops.update_admin_settings(changes))

    def settings_history(self, *, limit: int | None = None) -> AsyncIterator[m.SettingsChange]:
        return self._iterate(lambda c: ops.settings_history(c, limit))

    def admin_workers(self, *, limit: int | None = None) -> AsyncIterator[m.WorkerRow]:
        return self._iterate(lambda c: ops.admin_workers(c, limit))

    async def batch_stats(self, batch_id: str) -> Any:
        """The dashboard's figures: completions over time, confidence distribution, answers per
        task against fixed overlap, the workers with the most answers."""
        return await self.run(ops.batch_stats(batch_id))

    def admin_payouts(
        self, *, status: str | None = None, limit: int | None = None
    ) -> AsyncIterator[m.AdminPayout]:
        """The payout queue, newest first; ``status``: open, requested, pending, paid, failed."""
        return self._iterate(lambda c: ops.admin_payouts(c, limit, status))

    async def ban(
        self, worker_id: str, reason: str, *, project_id: str | None = None
    ) -> m.WorkerRow:
        return await self.run(ops.ban(worker_id, reason, project_id))

    async def unban(self, worker_id: str, *, project_id: str | None = None) -> m.WorkerRow:
        return await self.run(ops.unban(worker_id, project_id))

    async def verify_ledger(self) -> m.LedgerCheck:
        return await self.run(ops.verify_ledger())

    async def admin_stats(self) -> Any:
        return await self.run(ops.admin_stats())

    # Webhooks
    async def create_webhook(
        self, url: str, events: Sequence[str], *, secret: str | None = None
    ) -> m.Webhook:
        return await self.run(ops.create_webhook(url, events, secret))

    def webhooks(self, *, limit: int | None = None) -> AsyncIterator[m.Webhook]:
        return self._iterate(lambda c: ops.list_webhooks(c, limit))

    async def get_webhook(self, webhook_id: str) -> m.Webhook:
        return await self.run(ops.get_webhook(webhook_id))

    async def delete_webhook(self, webhook_id: str) -> None:
        await self.run(ops.delete_webhook(webhook_id))

    async def ping_webhook(self, webhook_id: str) -> m.Ping:
        return await self.run(ops.ping_webhook(webhook_id))

    def webhook_deliveries(
        self, webhook_id: str, *, limit: int | None = None
    ) -> AsyncIterator[m.WebhookDelivery]:
        return self._iterate(lambda c: ops.webhook_deliveries(webhook_id, c, limit))

    # Annotation assistants
    async def box_to_polygon(
        self, assignment_id: str, box: Sequence[float], label: str
    ) -> m.AssistAnswer:
        body = {"assignment_id": assignment_id, "box": list(box), "label": label}
        return await self.run(ops.assist("box_to_polygon", body))

    async def box_to_mask(
        self, assignment_id: str, box: Sequence[float], label: str
    ) -> m.AssistAnswer:
        body = {"assignment_id": assignment_id, "box": list(box), "label": label}
        return await self.run(ops.assist("box_to_mask", body))

    async def superpixel(
        self, assignment_id: str, point: Sequence[float], label: str, *, segments: int = 400
    ) -> m.AssistAnswer:
        body = {
            "assignment_id": assignment_id,
            "point": list(point),
            "label": label,
            "segments": segments,
        }
        return await self.run(ops.assist("superpixel", body))

    async def snap(
        self, assignment_id: str, point: Sequence[float], *, radius: float | None = None
    ) -> m.Snap:
        return await self.run(ops.snap(assignment_id, point, radius))
