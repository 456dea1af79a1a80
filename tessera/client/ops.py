"""Every endpoint of the API as an ``Op`` (method, path, body, parser): written once, run by
both ``Client`` and ``AsyncClient``."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from tessera.client import models as m
from tessera.client._http import FileList, Op, content, model, nothing, page, raw_json

Cursor = str | None
PageOf = tuple[list[Any], str | None]
Money = Decimal | str | int


def money(amount: Money) -> str:
    return str(Decimal(str(amount)))


ImageSource = str | Path | tuple[str, bytes] | tuple[str, IO[bytes]] | tuple[str, Path]
"""A file path (named by its base name), or ``(name, bytes | open binary file | path)``; the
name may hold folders (``train/cat.jpg``), which the batch keeps."""


def image_files(
    images: Sequence[ImageSource], field: str = "files"
) -> Callable[[ExitStack], FileList]:
    """Multipart parts, opened lazily per attempt: files are streamed from disk, never read
    whole into memory."""

    def open_all(stack: ExitStack) -> FileList:
        parts: FileList = []
        for image in images:
            if isinstance(image, str | Path):
                path = Path(image)
                parts.append(
                    (field, (path.name, stack.enter_context(path.open("rb")), _media(path.name)))
                )
            else:
                name, body = image
                if isinstance(body, Path):
                    parts.append(
                        (field, (name, stack.enter_context(body.open("rb")), _media(name)))
                    )
                elif isinstance(body, bytes):
                    import io

                    parts.append((field, (name, io.BytesIO(body), _media(name))))
                else:
                    body.seek(0)
                    parts.append((field, (name, body, _media(name))))
        return parts

    return open_all


def _media(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "webp": "image/webp",
        "gif": "image/gif",
        "zip": "application/zip",
    }.get(suffix, "application/octet-stream")


# Health
def healthz() -> Op[Any]:
    return Op("GET", "/healthz", raw_json)


def readyz() -> Op[Any]:
    return Op("GET", "/readyz", raw_json)


# Accounts and keys
def create_account(
    role: str, name: str, email: str | None, password: str | None
) -> Op[m.AccountCreated]:
    body: dict[str, Any] = {"role": role, "name": name}
    if email is not None:
        body["email"] = email
    if password is not None:
        body["password"] = password
    return Op("POST", "/v1/accounts", model(m.AccountCreated), json=body)


def me() -> Op[m.Me]:
    return Op("GET", "/v1/me", model(m.Me))


def list_api_keys() -> Op[PageOf]:
    return Op("GET", "/v1/me/api-keys", page(m.ApiKey))


def create_api_key(name: str) -> Op[m.ApiKeyCreated]:
    return Op("POST", "/v1/me/api-keys", model(m.ApiKeyCreated), json={"name": name})


def delete_api_key(key_id: str) -> Op[None]:
    return Op("DELETE", f"/v1/me/api-keys/{key_id}", nothing)


# Money
def deposit(amount: Money, key: str | None) -> Op[m.Deposit]:
    return Op(
        "POST",
        "/v1/deposits",
        model(m.Deposit),
        json={"amount": money(amount)},
        idempotent=True,
        idempotency_key=key,
    )


def ledger(cursor: Cursor, limit: int | None) -> Op[PageOf]:
    return Op(
        "GET", "/v1/me/ledger", page(m.LedgerEntry), params={"cursor": cursor, "limit": limit}
    )


def payout(amount: Money | None, key: str | None) -> Op[m.Payout]:
    body = {} if amount is None else {"amount": money(amount)}
    return Op(
        "POST", "/v1/payouts", model(m.Payout), json=body, idempotent=True, idempotency_key=key
    )


def get_payout(payout_id: str) -> Op[m.Payout]:
    return Op("GET", f"/v1/payouts/{payout_id}", model(m.Payout))


# Projects
def create_project(spec: Mapping[str, Any]) -> Op[m.Project]:
    return Op("POST", "/v1/projects", model(m.Project), json=dict(spec))


def _project_or_open(response: Any) -> PageOf:
    body = raw_json(response)
    items, cursor = body["items"], body.get("next_cursor")
    return [m.OpenProject(**i) if "available_tasks" in i else m.Project(**i) for i in items], cursor


def list_projects(cursor: Cursor, limit: int | None) -> Op[PageOf]:
    return Op("GET", "/v1/projects", _project_or_open, params={"cursor": cursor, "limit": limit})


def get_project(project_id: str) -> Op[Any]:
    def parse(response: Any) -> m.Project | m.OpenProject:
        body = raw_json(response)
        return m.OpenProject(**body) if "available_tasks" in body else m.Project(**body)

    return Op("GET", f"/v1/projects/{project_id}", parse)


def update_project(project_id: str, changes: Mapping[str, Any]) -> Op[m.Project]:
    return Op("PATCH", f"/v1/projects/{project_id}", model(m.Project), json=dict(changes))


def add_gold(project_id: str, image: ImageSource, answer: Any) -> Op[m.Gold]:
    return Op(
        "POST",
        f"/v1/projects/{project_id}/gold",
        model(m.Gold),
        files=image_files([image], field="file"),
        data={"answer": jsonlib.dumps(answer)},
    )


def import_gold(
    project_id: str, files: Sequence[ImageSource], labels_format: str | None = None
) -> Op[m.GoldImport]:
    """Images and label files (or zips of them): each image a file answers becomes gold."""
    return Op(
        "POST",
        f"/v1/projects/{project_id}/gold/import",
        model(m.GoldImport),
        files=image_files(files),
        data={"labels_format": labels_format} if labels_format else None,
    )


def create_model(project_id: str, spec: Mapping[str, Any]) -> Op[m.AnnotatorModelCreated]:
    return Op(
        "POST", f"/v1/projects/{project_id}/models", model(m.AnnotatorModelCreated), json=dict(spec)
    )


def list_models(project_id: str, cursor: Cursor, limit: int | None) -> Op[PageOf]:
    params = {"cursor": cursor, "limit": limit}
    return Op("GET", f"/v1/projects/{project_id}/models", page(m.AnnotatorModel), params=params)


def delete_model(project_id: str, model_id: str) -> Op[None]:
    return Op("DELETE", f"/v1/projects/{project_id}/models/{model_id}", nothing)


# Batches
def create_batch(
    project_id: str,
    images: Sequence[ImageSource] | None,
    *,
    json: Mapping[str, Any] | None,
    key: str | None,
) -> Op[m.Batch]:
    return Op(
        "POST",
        f"/v1/projects/{project_id}/batches",
        model(m.Batch),
        files=image_files(images) if images is not None else None,
        json=dict(json) if json is not None else None,
        idempotent=True,
        idempotency_key=key,
    )


def add_images(
    batch_id: str,
    images: Sequence[ImageSource] | None,
    *,
    json: Mapping[str, Any] | None,
    key: str | None,
) -> Op[m.BatchImages]:
    return Op(
        "POST",
        f"/v1/batches/{batch_id}/images",
        model(m.BatchImages),
        files=image_files(images) if images is not None else None,
        json=dict(json) if json is not None else None,
        idempotent=True,
        idempotency_key=key,
    )


def list_batches(project_id: str, cursor: Cursor, limit: int | None) -> Op[PageOf]:
    params = {"cursor": cursor, "limit": limit}
    return Op("GET", f"/v1/projects/{project_id}/batches", page(m.Batch), params=params)


def launch_batch(batch_id: str, key: str | None) -> Op[m.Batch]:
    return Op(
        "POST",
        f"/v1/batches/{batch_id}/launch",
        model(m.Batch),
        idempotent=True,
        idempotency_key=key,
    )


def cancel_batch(batch_id: str) -> Op[m.Batch]:
    return Op("POST", f"/v1/batches/{batch_id}/cancel", model(m.Batch))


def get_batch(batch_id: str) -> Op[m.Batch]:
    return Op("GET", f"/v1/batches/{batch_id}", model(m.Batch))


def results(
    batch_id: str,
    cursor: Cursor,
    limit: int | None,
    include_answers: bool,
    filters: Mapping[str, Any] | None = None,
) -> Op[PageOf]:
    params = {
        "cursor": cursor,
        "limit": limit,
        "include": "answers" if include_answers else None,
        **(filters or {}),
    }
    return Op("GET", f"/v1/batches/{batch_id}/results", page(m.Result), params=params)


def export_params(fmt: str, images: bool = False) -> dict[str, Any]:
    return {"format": fmt, "images": "true" if images else None}


def batch_assignments(
    batch_id: str, cursor: Cursor, limit: int | None, status: str | None
) -> Op[PageOf]:
    params = {"cursor": cursor, "limit": limit, "status": status}
    return Op("GET", f"/v1/batches/{batch_id}/assignments", page(m.Review), params=params)


# Review
def accept(assignment_id: str) -> Op[m.Assignment]:
    return Op("POST", f"/v1/assignments/{assignment_id}/accept", model(m.Assignment))


def reject(assignment_id: str, reason: str) -> Op[m.Assignment]:
    return Op(
        "POST",
        f"/v1/assignments/{assignment_id}/reject",
        model(m.Assignment),
        json={"reason": reason},
    )


def bonus(assignment_id: str, amount: Money, reason: str, key: str | None) -> Op[m.Bonus]:
    return Op(
        "POST",
        f"/v1/assignments/{assignment_id}/bonus",
        model(m.Bonus),
        json={"amount": money(amount), "reason": reason},
        idempotent=True,
        idempotency_key=key,
    )


def appeal(assignment_id: str, message: str) -> Op[m.Assignment]:
    return Op(
        "POST",
        f"/v1/assignments/{assignment_id}/appeal",
        model(m.Assignment),
        json={"message": message},
    )


def answer_appeal(assignment_id: str, grant: bool, reason: str) -> Op[m.Assignment]:
    verb = "grant" if grant else "deny"
    return Op(
        "POST",
        f"/v1/assignments/{assignment_id}/appeal/{verb}",
        model(m.Assignment),
        json={"reason": reason},
    )


# Work
def lease(project_id: str) -> Op[m.Lease | None]:
    def parse(response: Any) -> m.Lease | None:
        if response.status_code == 204:
            return None
        return model(m.Lease)(response)

    return Op("POST", f"/v1/projects/{project_id}/assignments", parse)


def submit(assignment_id: str, answer: Any) -> Op[m.Assignment]:
    return Op(
        "POST",
        f"/v1/assignments/{assignment_id}/submit",
        model(m.Assignment),
        json={"answer": answer},
    )


def release(assignment_id: str, reason: str) -> Op[m.Assignment]:
    return Op(
        "POST",
        f"/v1/assignments/{assignment_id}/release",
        model(m.Assignment),
        json={"reason": reason},
    )


def my_assignments(cursor: Cursor, limit: int | None) -> Op[PageOf]:
    return Op(
        "GET", "/v1/me/assignments", page(m.Assignment), params={"cursor": cursor, "limit": limit}
    )


def my_skills() -> Op[list[m.Standing]]:
    return Op("GET", "/v1/me/skills", lambda r: page(m.Standing)(r)[0])


def image(url_or_id: str) -> Op[bytes]:
    path = url_or_id if "/" in url_or_id else f"/v1/images/{url_or_id}"
    return Op("GET", path, content)


# Operator
def admin_settings() -> Op[m.PlatformSettings]:
    return Op("GET", "/v1/admin/settings", model(m.PlatformSettings))


def update_admin_settings(changes: Mapping[str, Any]) -> Op[m.PlatformSettings]:
    return Op("PATCH", "/v1/admin/settings", model(m.PlatformSettings), json=dict(changes))


def settings_history(cursor: Cursor, limit: int | None) -> Op[PageOf]:
    return Op(
        "GET",
        "/v1/admin/settings/history",
        page(m.SettingsChange),
        params={"cursor": cursor, "limit": limit},
    )


def admin_workers(cursor: Cursor, limit: int | None) -> Op[PageOf]:
    return Op(
        "GET", "/v1/admin/workers", page(m.WorkerRow), params={"cursor": cursor, "limit": limit}
    )


def batch_stats(batch_id: str) -> Op[Any]:
    return Op("GET", f"/v1/batches/{batch_id}/stats", raw_json)


def admin_payouts(cursor: Cursor, limit: int | None, status: str | None) -> Op[PageOf]:
    return Op(
        "GET",
        "/v1/admin/payouts",
        page(m.AdminPayout),
        params={"cursor": cursor, "limit": limit, "status": status},
    )


def ban(worker_id: str, reason: str, project_id: str | None) -> Op[m.WorkerRow]:
    body = {"reason": reason, **({"project_id": project_id} if project_id else {})}
    return Op("POST", f"/v1/admin/workers/{worker_id}/ban", model(m.WorkerRow), json=body)


def unban(worker_id: str, project_id: str | None) -> Op[m.WorkerRow]:
    body = {"project_id": project_id} if project_id else {}
    return Op("POST", f"/v1/admin/workers/{worker_id}/unban", model(m.WorkerRow), json=body)


def verify_ledger() -> Op[m.LedgerCheck]:
    return Op("GET", "/v1/admin/ledger/verify", model(m.LedgerCheck))


def admin_stats() -> Op[Any]:
    return Op("GET", "/v1/admin/stats", raw_json)


# Webhooks
def create_webhook(url: str, events: Sequence[str], secret: str | None) -> Op[m.Webhook]:
    body: dict[str, Any] = {"url": url, "events": list(events)}
    if secret is not None:
        body["secret"] = secret
    return Op("POST", "/v1/webhooks", model(m.Webhook), json=body)


def list_webhooks(cursor: Cursor, limit: int | None) -> Op[PageOf]:
    return Op("GET", "/v1/webhooks", page(m.Webhook), params={"cursor": cursor, "limit": limit})


def get_webhook(webhook_id: str) -> Op[m.Webhook]:
    return Op("GET", f"/v1/webhooks/{webhook_id}", model(m.Webhook))


def delete_webhook(webhook_id: str) -> Op[None]:
    return Op("DELETE", f"/v1/webhooks/{webhook_id}", nothing)


def ping_webhook(webhook_id: str) -> Op[m.Ping]:
    return Op("POST", f"/v1/webhooks/{webhook_id}/ping", model(m.Ping))


def webhook_deliveries(webhook_id: str, cursor: Cursor, limit: int | None) -> Op[PageOf]:
    return Op(
        "GET",
        f"/v1/webhooks/{webhook_id}/deliveries",
        page(m.WebhookDelivery),
        params={"cursor": cursor, "limit": limit},
    )


# Annotation assistants (a worker, on a task it holds)
def assist(tool: str, body: Mapping[str, Any]) -> Op[m.AssistAnswer]:
    return Op("POST", f"/v1/assist/{tool}", model(m.AssistAnswer), json=dict(body))


def snap(assignment_id: str, point: Sequence[float], radius: float | None) -> Op[m.Snap]:
    body: dict[str, Any] = {"assignment_id": assignment_id, "point": list(point)}
    if radius is not None:
        body["radius"] = radius
    return Op("POST", "/v1/assist/snap", model(m.Snap), json=body)
