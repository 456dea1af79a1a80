from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.annotations.registry import annotation_kinds
from app.annotators.starts import Start
from app.auth.deps import Requester
from app.batches import results as batch_results
from app.batches import service as batch_service
from app.batches.errors import (
    BatchStateConflict,
    EmptyUpload,
    FormatNotAvailable,
    GoldNeedsOneImage,
    ImageRejected,
    ImagesNeedFormat,
)
from app.batches.intake import Upload, limits_from
from app.batches.schemas import (
    AddedImage,
    BatchCreateJSON,
    BatchImagesOut,
    BatchMoney,
    BatchOut,
    BatchPage,
    BatchProgress,
    BatchStatsOut,
    GoldImportOut,
    GoldJSON,
    GoldOut,
    LaunchQuote,
    PredictionStart,
    ResultAnswer,
    ResultItem,
    ResultPage,
    ReviewItem,
    ReviewPage,
)
from app.core import idempotency
from app.core.deps import BaseURL, Now, SessionDep, SettingsDep
from app.core.errors import (
    DatabaseUnavailable,
    InsufficientStorage,
    PayloadTooLarge,
    StorageUnavailable,
    UnsupportedMediaType,
)
from app.core.forms import Form, FormField, parse_json_body
from app.core.openapi import model_ref, problems, request_body
from app.core.pagination import PageParams, next_cursor, page_params
from app.exports import (
    Export,
    ExportItem,
    ExportNotAvailable,
    ImageReader,
    export,
    image_archive,
    needs_images,
)
from app.exports.streaming import started
from app.images import ImageLimits, ImageStore, default_resolver, fetch_image, requester_expiry
from app.images.store import api_image_url
from app.imports import LABEL_FORMATS, LabelFileInvalid
from app.models import Batch
from app.money import service as money_service
from app.money.errors import InsufficientFunds

router = APIRouter(prefix="/v1", tags=["batches"])

Page = Annotated[PageParams, Depends(page_params)]
IdempotencyKey = idempotency.KeyHeader

IMAGE_STORE_PROBLEMS = (InsufficientStorage, StorageUnavailable, DatabaseUnavailable)
"""What storing images can meet besides the request's own faults: a full store (507) and an
unavailable store or database (503, Retry-After); nothing of the upload is kept."""
SkipInvalid = Annotated[
    bool,
    Query(
        description="Report a corrupt or refused image in `skipped` (with why) and keep the "
        "others, instead of refusing the whole request."
    ),
]

BATCH_FORM = Form(
    FormField(
        "files",
        "files",
        description="Images (JPEG, PNG, WebP) or .zip archives of them; each image is a task. "
        "Label files (COCO, YOLO, Pascal VOC, CVAT, Datumaro, Label Studio, masks, CSV) in a zip "
        "or beside the images become pre-annotations, reported per file in "
        "`upload_report.labels` (docs/EXPORTS.md, Imports).",
    ),
    FormField(
        "labels_format",
        "text",
        required=False,
        description="Read the label files in this format only (by default each file's format is "
        "detected from its name and content); `folders`: class folders "
        "(`train/<label>/<name>`) label a classification project's images.",
        choices=LABEL_FORMATS,
    ),
)
GOLD_IMPORT_FORM = Form(
    FormField(
        "files",
        "files",
        description="Images and label files, or .zip archives of them (a dataset export): each "
        "image a label file answers becomes a gold task with that answer.",
    ),
    FormField(
        "labels_format",
        "text",
        required=False,
        description="Read the label files in this format only (by default detected).",
        choices=LABEL_FORMATS,
    ),
)
GOLD_FORM = Form(
    FormField("file", "file", description="The gold task's image."),
    FormField(
        "answer", "json", description="The known answer, as JSON in the project's answer shape."
    ),
    FormField(
        "pre_annotation",
        "json",
        required=False,
        description="Optional: what workers start from, as the batch's tasks do (JSON).",
    ),
)


def batch_out(session: Session, batch: Batch, now: datetime) -> BatchOut:
    overlap = (
        None
        if batch.overlap_max is None
        else {"min": batch.overlap_min or 1, "max": batch.overlap_max}
    )
    return BatchOut(
        id=batch.id,
        project_id=batch.project_id,
        status=batch.status,
        task_count=batch.task_count,
        counts=batch_service.task_counts(session, batch),
        money=BatchMoney(**asdict(money_service.batch_money(session, batch.id))),
        progress=BatchProgress(**batch_service.progress(session, batch, now=now)),
        upload_report=batch.upload_report,
        launch_quote=(
            None if (q := batch_service.launch_quote(session, batch)) is None else LaunchQuote(**q)
        ),
        reward=batch.reward_micros,
        overlap=overlap,
        created_at=batch.created_at,
        launched_at=batch.launched_at,
        completed_at=batch.completed_at,
        cancelled_at=batch.cancelled_at,
    )


def image_limits(settings: SettingsDep) -> ImageLimits:
    return limits_from(settings)


Limits = Annotated[ImageLimits, Depends(image_limits)]


async def _read_multipart(
    request: Request, limits: ImageLimits, max_images: int
) -> tuple[Upload, dict[str, Any]]:
    upload = Upload()
    async with BATCH_FORM.read(request, max_files=max_images) as form:
        for item in form["files"]:
            data = await item.read(limits.max_request_bytes + 1)
            upload.add_file(item.filename or "", data, limits)
        upload.labels_format = form.get("labels_format")
    fingerprint: dict[str, Any] = {
        "files": [(n, hashlib.sha256(d).hexdigest()) for n, d in upload.images]
    }
    if upload.labels:
        fingerprint["labels"] = [(n, hashlib.sha256(d).hexdigest()) for n, d in upload.labels]
    if upload.labels_format:
        fingerprint["labels_format"] = upload.labels_format
    return upload, fingerprint


async def _read_json(
    request: Request, limits: ImageLimits
) -> tuple[Upload, dict[str, Any], dict[str, Any] | None]:
    body = parse_json_body(await request.body(), BatchCreateJSON, "batch description")
    upload = Upload()
    urls = [str(ref.url) for ref in body.images if ref.url is not None]
    url_names = [ref.name for ref in body.images if ref.url is not None]
    for ref in body.images:
        if ref.data_base64 is not None:
            upload.add_base64(ref.name or "", ref.data_base64, limits)
    if urls:
        resolver = getattr(request.app.state, "url_resolver", default_resolver)
        await run_in_threadpool(
            lambda: upload.add_url_refs(urls, resolver=resolver, names=url_names)
        )
    for label_file in body.labels or []:
        upload.add_label_file(label_file.name, label_file.data_base64, limits)
    upload.labels_format = body.labels_format
    fingerprint: dict[str, Any] = {
        "images": [(n, hashlib.sha256(d).hexdigest()) for n, d in upload.images],
        "urls": urls,
        "url_names": url_names,
        "pre": body.pre_annotations,
    }
    if upload.labels:
        fingerprint["labels"] = [(n, hashlib.sha256(d).hexdigest()) for n, d in upload.labels]
    if upload.labels_format:
        fingerprint["labels_format"] = upload.labels_format
    return upload, fingerprint, body.pre_annotations


@router.post(
    "/projects/{project_id}/batches",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchOut,
    openapi_extra=request_body(json=BatchCreateJSON, multipart=BATCH_FORM.schema()),
    responses=problems(
        UnsupportedMediaType,
        ImageRejected,
        BatchStateConflict,
        LabelFileInvalid,
        *IMAGE_STORE_PROBLEMS,
    ),
)
async def create_batch(
    project_id: str,
    request: Request,
    requester: Requester,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
    limits: Limits,
    idempotency_key: IdempotencyKey = None,
    skip_invalid: SkipInvalid = False,
) -> JSONResponse:
    """Upload images (multipart `files`, a `.zip`, or JSON with base64 or URLs); each becomes a
    task. Duplicates are merged and reported; with `skip_invalid=true` bad images are too."""
    upload, fingerprint, pre = await _read_upload(request, settings, limits)
    store = request.app.state.image_store

    def action() -> tuple[int, BatchOut]:
        batch = batch_service.create(
            session,
            store,
            requester,
            project_id,
            upload,
            pre_annotations=pre,
            limits=limits,
            max_images=settings.max_batch_images,
            now=now,
            skip_invalid=skip_invalid,
        )
        return status.HTTP_201_CREATED, batch_out(session, batch, now)

    request_hash = idempotency.fingerprint(
        "POST",
        request.url.path,
        {**fingerprint, "skip_invalid": True} if skip_invalid else fingerprint,
    )
    return await run_in_threadpool(
        idempotency.run_once, session, requester, idempotency_key, request_hash, action, now=now
    )


async def _read_upload(
    request: Request, settings: SettingsDep, limits: ImageLimits
) -> tuple[Upload, dict[str, Any], dict[str, Any] | None]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_request_bytes:
        raise PayloadTooLarge(
            f"The upload is {length} bytes; the limit is {settings.max_request_bytes}."
        )
    if content_type == "multipart/form-data":
        upload, fingerprint = await _read_multipart(request, limits, settings.max_batch_images)
        return upload, fingerprint, None
    if content_type == "application/json":
        return await _read_json(request, limits)
    raise UnsupportedMediaType("Send multipart/form-data with image files, or application/json.")


@router.post(
    "/batches/{batch_id}/images",
    response_model=BatchImagesOut,
    openapi_extra=request_body(json=BatchCreateJSON, multipart=BATCH_FORM.schema()),
    responses=problems(
        UnsupportedMediaType,
        ImageRejected,
        BatchStateConflict,
        LabelFileInvalid,
        *IMAGE_STORE_PROBLEMS,
    ),
)
async def add_batch_images(
    batch_id: str,
    request: Request,
    requester: Requester,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
    limits: Limits,
    idempotency_key: IdempotencyKey = None,
    skip_invalid: SkipInvalid = False,
) -> JSONResponse:
    """Add images to a draft batch, in the same forms as the upload that created it. An image
    the batch already holds (the same bytes) makes no second task and is listed in `present`:
    a large upload can go in parallel chunks, and a chunk resent after a lost response or a
    crash changes nothing."""
    upload, fingerprint, pre = await _read_upload(request, settings, limits)
    store = request.app.state.image_store

    def action() -> tuple[int, BatchImagesOut]:
        result = batch_service.add_images(
            session,
            store,
            requester,
            batch_id,
            upload,
            pre_annotations=pre,
            limits=limits,
            max_images=settings.max_batch_images,
            now=now,
            skip_invalid=skip_invalid,
        )
        return status.HTTP_200_OK, BatchImagesOut(
            batch=batch_out(session, result.batch, now),
            added=[AddedImage(**a) for a in result.added],
            present=[AddedImage(**p) for p in result.present],
            duplicates=result.duplicates,
            skipped=upload.skipped,
            labels=result.labels,
        )

    request_hash = idempotency.fingerprint(
        "POST",
        request.url.path,
        {**fingerprint, "skip_invalid": True} if skip_invalid else fingerprint,
    )
    return await run_in_threadpool(
        idempotency.run_once, session, requester, idempotency_key, request_hash, action, now=now
    )


async def _read_gold(request: Request, limits: ImageLimits) -> tuple[str, bytes, Any, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    upload = Upload()
    if content_type == "multipart/form-data":
        async with GOLD_FORM.read(request, max_files=1) as form:
            file = form["file"]
            upload.add_file(file.filename or "", await file.read(limits.max_file_bytes + 1), limits)
        answer, pre_annotation = form["answer"], form.get("pre_annotation")
    elif content_type == "application/json":
        body = parse_json_body(await request.body(), GoldJSON, "gold task")
        if body.image_base64 is not None:
            upload.add_base64(body.name or "gold", body.image_base64, limits)
        else:
            fetch = getattr(request.app.state, "image_fetcher", fetch_image)
            await run_in_threadpool(
                lambda: upload.add_urls([str(body.image_url)], limits, fetch=fetch)
            )
        answer, pre_annotation = body.answer, body.pre_annotation
    else:
        raise UnsupportedMediaType("Send multipart/form-data (file, answer) or application/json.")
    if len(upload.images) != 1:
        raise GoldNeedsOneImage(len(upload.images))
    name, data = upload.images[0]
    return name, data, answer, pre_annotation


@router.post(
    "/projects/{project_id}/gold",
    status_code=status.HTTP_201_CREATED,
    response_model=GoldOut,
    openapi_extra=request_body(json=GoldJSON, multipart=GOLD_FORM.schema()),
    responses=problems(UnsupportedMediaType, ImageRejected, *IMAGE_STORE_PROBLEMS),
)
async def create_gold(
    project_id: str,
    request: Request,
    requester: Requester,
    session: SessionDep,
    now: Now,
    limits: Limits,
    base_url: BaseURL,
) -> GoldOut:
    """A gold task: an image with its known answer, mixed into workers' streams at the project's
    gold rate and used for qualification; never in results, its answer never shown to workers."""
    name, data, answer, pre_annotation = await _read_gold(request, limits)
    task = await run_in_threadpool(
        batch_service.create_gold,
        session,
        request.app.state.image_store,
        requester,
        project_id,
        name,
        data,
        answer,
        pre_annotation=pre_annotation,
        limits=limits,
        now=now,
    )
    images = await run_in_threadpool(batch_results.images_by_id, session, [task.image_id])
    return GoldOut(
        id=task.id,
        project_id=task.project_id,
        image_name=task.image_name,
        image_url=request.app.state.image_store.url_for(
            images[task.image_id],
            viewer_id=requester.id,
            expires_at=requester_expiry(now),
            base_url=base_url,
        ),
        answer=task.gold_answer or {},
        pre_annotation=task.pre_annotation,
        created_at=task.created_at,
    )


@router.post(
    "/projects/{project_id}/gold/import",
    status_code=status.HTTP_201_CREATED,
    response_model=GoldImportOut,
    openapi_extra=request_body(multipart=GOLD_IMPORT_FORM.schema()),
    responses=problems(UnsupportedMediaType, ImageRejected, EmptyUpload, LabelFileInvalid),
)
async def import_gold(
    project_id: str,
    request: Request,
    requester: Requester,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
    limits: Limits,
    base_url: BaseURL,
) -> GoldImportOut:
    """Gold tasks from a dataset: images with label files in any format uploads read (COCO,
    YOLO, VOC, CVAT, Datumaro, Label Studio, masks, CSV, class folders); each image a file
    answers becomes a gold task with that answer, validated like any answer. `labels` reports
    per file what did not match an image or a label, and which images got no answer."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise UnsupportedMediaType("Send multipart/form-data with files (images, label files).")
    upload = Upload()
    async with GOLD_IMPORT_FORM.read(request, max_files=settings.max_batch_images) as form:
        for item in form["files"]:
            upload.add_file(
                item.filename or "", await item.read(limits.max_request_bytes + 1), limits
            )
        upload.labels_format = form.get("labels_format")
    result = await run_in_threadpool(
        batch_service.import_gold,
        session,
        request.app.state.image_store,
        requester,
        project_id,
        upload,
        limits=limits,
        max_images=settings.max_batch_images,
        now=now,
    )
    images = await run_in_threadpool(
        batch_results.images_by_id, session, [task.image_id for task in result.tasks]
    )
    store = request.app.state.image_store
    return GoldImportOut(
        items=[
            GoldOut(
                id=task.id,
                project_id=task.project_id,
                image_name=task.image_name,
                image_url=store.url_for(
                    images[task.image_id],
                    viewer_id=requester.id,
                    expires_at=requester_expiry(now),
                    base_url=base_url,
                ),
                answer=task.gold_answer or {},
                pre_annotation=task.pre_annotation,
                created_at=task.created_at,
            )
            for task in result.tasks
        ],
        labels=result.labels,
        duplicates=result.duplicates,
        skipped=upload.skipped,
    )


@router.get("/projects/{project_id}/batches", response_model=BatchPage)
def list_batches(
    project_id: str, requester: Requester, session: SessionDep, page: Page, now: Now
) -> BatchPage:
    """The project's batches, newest first, each as `GET /v1/batches/{id}` shows it."""
    rows = batch_service.of_project(session, requester, project_id, page)
    return BatchPage(
        items=[batch_out(session, b, now) for b in rows[: page.limit]],
        next_cursor=next_cursor([b.id for b in rows], page.limit),
    )


@router.post(
    "/batches/{batch_id}/launch",
    response_model=BatchOut,
    responses=problems(BatchStateConflict, InsufficientFunds),
)
def launch_batch(
    batch_id: str,
    request: Request,
    requester: Requester,
    session: SessionDep,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Open the batch to workers; its reward and overlap are fixed from now on."""

    def action() -> tuple[int, BatchOut]:
        return status.HTTP_200_OK, batch_out(
            session, batch_service.launch(session, requester, batch_id, now=now), now
        )

    request_hash = idempotency.fingerprint("POST", request.url.path, None)
    return idempotency.run_once(session, requester, idempotency_key, request_hash, action, now=now)


@router.post(
    "/batches/{batch_id}/cancel", response_model=BatchOut, responses=problems(BatchStateConflict)
)
def cancel_batch(batch_id: str, requester: Requester, session: SessionDep, now: Now) -> BatchOut:
    """Stop handing out the batch's tasks; leases already out may still be submitted."""
    return batch_out(session, batch_service.cancel(session, requester, batch_id, now=now), now)


@router.get("/batches/{batch_id}", response_model=BatchOut)
def get_batch(batch_id: str, requester: Requester, session: SessionDep, now: Now) -> BatchOut:
    """Status, counts, money and progress (answers used, projected cost, ETA) of a batch."""
    return batch_out(session, batch_service.get_own(session, requester, batch_id), now)


@router.get("/batches/{batch_id}/stats", response_model=BatchStatsOut)
def get_batch_stats(
    batch_id: str, requester: Requester, session: SessionDep, now: Now
) -> BatchStatsOut:
    """The dashboard's figures, aggregated by the database: completions over time, the
    confidence distribution, answers per completed task against fixed overlap, and the workers
    with the most answers (verdicts, agreement with the consensus)."""
    return BatchStatsOut(**batch_service.stats(session, requester, batch_id, now=now))


ExportFormatName = Literal[
    "json", "coco", "yolo", "voc", "csv", "masks", "folders", "cvat", "datumaro", "labelstudio"
]


def _download(result: Export, batch_id: str) -> StreamingResponse:
    """The export as a streamed response, its first chunk made first: an image store that is
    down is a 503 problem before any byte, a failure later aborts the connection
    (app.exports.streaming, docs/EXPORTS.md)."""
    result = started(result, f"{result.format} export of {batch_id}")
    disposition = f'attachment; filename="{batch_id}{result.filename_suffix}"'
    return StreamingResponse(
        result.chunks, media_type=result.media_type, headers={"Content-Disposition": disposition}
    )


def _image_reader(store: ImageStore) -> ImageReader:
    def read(item: ExportItem) -> bytes:
        if item.image_sha256 is None:
            raise ValueError(f"task {item.task_id}: no stored image")
        return store.get(item.image_sha256)

    return read


def _results_content() -> dict[str, Any]:
    """format=json pages, or a download: the JSON ones (COCO, Label Studio) in their own shape."""
    documents = {
        json.dumps(fmt.json_schema, sort_keys=True): fmt.json_schema
        for kind in annotation_kinds()
        for fmt in kind.formats.values()
        if fmt.media_type == "application/json" and fmt.json_schema is not None
    }
    json_schema = {"anyOf": [model_ref(ResultPage), *documents.values()]}
    return {
        "application/json": {"schema": json_schema},
        "application/zip": {},
        "text/csv": {},
    }


@router.get(
    "/batches/{batch_id}/results",
    response_model=None,
    responses={200: {"description": "Results", "content": _results_content()}},
)
def get_results(
    batch_id: str,
    request: Request,
    requester: Requester,
    session: SessionDep,
    page: Page,
    base_url: BaseURL,
    now: Now,
    format: Annotated[ExportFormatName, Query()] = "json",
    include: Annotated[Literal["answers"] | None, Query()] = None,
    include_images: Annotated[
        bool,
        Query(
            alias="images",
            description="With a download format (not json): the images go into the archive too.",
        ),
    ] = False,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    task_status: Annotated[
        Literal["draft", "open", "completed", "cancelled"] | None, Query(alias="status")
    ] = None,
    worker_id: Annotated[str | None, Query(max_length=32)] = None,
    verdict: Annotated[
        Literal["submitted", "accepted", "rejected", "appealed"] | None, Query()
    ] = None,
    labeled: Annotated[Literal["model", "crowd", "audit"] | None, Query(alias="labeled_by")] = None,
) -> ResultPage | StreamingResponse:
    """One item per task (JSON, paginated): the consensus answer and confidence, and with
    `include=answers` every answer with its verdict; or the whole batch as a COCO, YOLO, VOC, CSV,
    mask or class-folder download, streamed; with `images=true` a zip that holds the images too,
    laid out as each format's tools expect. The JSON pages can be filtered: by confidence
    (`min_confidence`, `max_confidence`), task `status`, `worker_id` (tasks that worker answered)
    `verdict` (tasks with an answer `submitted`, `accepted`, `rejected` or `appealed`) and
    `labeled_by` (`model`: auto-labelled, `crowd`: completed by people, `audit`: the audit share)."""
    batch = batch_service.get_own(session, requester, batch_id)
    if format == "json" and include_images:
        raise ImagesNeedFormat(batch)
    if format != "json":
        spec = batch_service.export_spec(session, batch)
        with_images = include_images or needs_images(format, spec.type)
        try:
            result = export(
                format,
                spec,
                batch_results.export_items(request.app.state.sessionmaker, batch.id),
                images=_image_reader(request.app.state.image_store) if with_images else None,
            )
        except ExportNotAvailable as exc:
            raise FormatNotAvailable(exc) from None
        return _download(result, batch.id)
    where = batch_results.ResultFilter(
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        status=task_status,
        worker_id=worker_id,
        verdict=verdict,
        labeled_by=labeled,
    )
    tasks = batch_results.tasks_page(session, batch, page, where)[: page.limit + 1]
    shown = tasks[: page.limit]
    images = batch_results.images_by_id(session, [t.image_id for t in shown])
    store, expires_at = request.app.state.image_store, requester_expiry(now)
    answers = (
        batch_results.answers_by_task(session, [t.id for t in shown])
        if include == "answers"
        else {}
    )
    starts = batch_results.prediction_starts(session, batch, shown, answers, images)
    urls = {
        image_id: store.url_for(
            image, viewer_id=requester.id, expires_at=expires_at, base_url=base_url
        )
        for image_id, image in images.items()
    }
    # Thumbnails are made by the API (from the store's bytes): always our own signed URL.
    thumbs = {
        image_id: api_image_url(
            request.app.state.url_signer,
            image,
            viewer_id=requester.id,
            expires_at=expires_at,
            base_url=base_url,
        )
        for image_id, image in images.items()
    }
    items = [
        ResultItem(
            task_id=t.id,
            image_name=t.image_name,
            image_url=urls[t.image_id],
            thumbnail_url=thumbnail_url(thumbs[t.image_id]),
            width=images[t.image_id].width,
            height=images[t.image_id].height,
            completed_at=t.completed_at,
            status=t.status,
            answer=t.consensus,
            confidence=batch_results.shown_confidence(t.confidence),
            answer_count=t.answer_count,
            labeled_by=batch_results.labeled_by(t),
            audited=bool(t.audit),
            answers=[
                ResultAnswer(
                    assignment_id=a.id,
                    worker_id=a.worker_id,
                    answer=a.answer,
                    status=a.status,
                    reason=a.reason,
                    submitted_at=a.submitted_at,
                    proposed_verdict=a.proposed_verdict,
                    agreement=a.agreement,
                    appeal_message=a.appeal_message,
                    appealed_at=a.appealed_at,
                    appeal_outcome=a.appeal_outcome,
                    prediction=_start_out(starts.get(a.id)),
                )
                for a in answers.get(t.id, [])
            ]
            if include == "answers"
            else None,
        )
        for t in shown
    ]
    return ResultPage(items=items, next_cursor=next_cursor([t.id for t in tasks], page.limit))


def _start_out(start: Start | None) -> PredictionStart | None:
    return PredictionStart(**asdict(start)) if start is not None else None


def thumbnail_url(image_url: str, width: int = 256) -> str:
    """The thumbnail of a signed image URL (the signature covers the image, not its size)."""
    return f"{image_url}{'&' if '?' in image_url else '?'}w={width}"


@router.get(
    "/batches/{batch_id}/images.zip",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The batch's images"}},
)
def get_images_zip(batch_id: str, request: Request, requester: Requester, session: SessionDep):  # type: ignore[no-untyped-def]
    """Every image of the batch under its name (the folders it was uploaded with), and
    `tessera/manifest.csv` (task id of each file); a streamed zip, images stored as they are."""
    batch = batch_service.for_download(session, requester, batch_id)
    result = image_archive(
        batch_results.export_items(request.app.state.sessionmaker, batch.id),
        _image_reader(request.app.state.image_store),
    )
    return _download(result, batch.id)


@router.get("/batches/{batch_id}/assignments", response_model=ReviewPage)
def batch_assignments(
    batch_id: str,
    requester: Requester,
    session: SessionDep,
    page: Page,
    status_filter: Annotated[
        Literal["submitted", "accepted", "rejected"] | None, Query(alias="status")
    ] = None,
) -> ReviewPage:
    """Answers submitted to the batch, for review."""
    batch = batch_service.get_own(session, requester, batch_id)
    rows = batch_results.review_page(session, batch, page, status_filter)
    items = [
        ReviewItem(
            id=a.id,
            task_id=a.task_id,
            worker_id=a.worker_id,
            status=a.status,
            answer=a.answer,
            reason=a.reason,
            submitted_at=a.submitted_at,
        )
        for a in rows[: page.limit]
    ]
    return ReviewPage(items=items, next_cursor=next_cursor([a.id for a in rows], page.limit))
