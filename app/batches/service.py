"""Batches: a requester's upload of images, each of which becomes one task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

import payments
from app.annotations import AnnotationSpec, AnswerInvalid, validate_answer
from app.annotations.errors import AnswerRefused
from app.batches import labelling
from app.batches.errors import (
    BatchNotFound,
    BatchStateConflict,
    EmptyUpload,
    UnknownImageNames,
    image_problem,
)
from app.batches.intake import Upload
from app.batches.stats import batch_stats
from app.core.db import insert_ignore, read_only, transaction
from app.core.errors import PayloadTooLarge
from app.core.ids import new_id
from app.core.pagination import PageParams
from app.images import ImageError, ImageInfo, ImageLimits, ImageStore, inspect_image
from app.images.names import BatchNames, clean_name, with_extension
from app.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Batch,
    BatchStatus,
    Image,
    ImageFetch,
    Project,
    Task,
    TaskQueueEntry,
    TaskStatus,
)
from app.models.task import completed_in
from app.projects import service as project_service
from app.quality import gold
from app.webhooks import events as webhook_events
from payments.models import Escrow
from payments.money import fee_for


@dataclass(frozen=True)
class CheckedImage:
    name: str
    data: bytes
    info: ImageInfo


def create(
    session: Session,
    store: ImageStore,
    requester: Account,
    project_id: str,
    upload: Upload,
    *,
    pre_annotations: dict[str, Any] | None,
    limits: ImageLimits,
    max_images: int,
    now: datetime,
    skip_invalid: bool = False,
) -> Batch:
    """Validate every image, store each distinct one once, and make a draft batch of tasks.
    An invalid image refuses the upload, or with ``skip_invalid`` is reported as skipped.
    Label files of the upload (``app.imports``, in ``upload.labels_format`` or detected) become
    pre-annotations; a file that cannot be read refuses the upload (``LabelFileInvalid``)."""
    project = project_service.get_own(session, requester, project_id)
    session.commit()  # end the read; the checks below are slow and must not hold the writer
    labelling.masks_as_labels(project, upload)
    unique, duplicates = _check_images(upload, limits, max_images, skip_invalid=skip_invalid)
    if upload.labels:
        unique = labelling.without_dataset_folder(unique)
    unique, by_folder, folder_entry = labelling.class_folders(project, unique, upload)
    unique, urls, aliases = _name_images(unique, upload.urls)
    finals = {item.name for item in unique} | {name for _, name in urls}
    given = {
        _pre_key(name, finals, aliases): answer for name, answer in (pre_annotations or {}).items()
    }
    url_names = {name for _, name in urls}
    # URL images are checked against their pre-annotation once downloaded (their size is unknown yet).
    later = {
        name: given.pop(name)
        for name in list(given)
        if name in url_names and name not in {item.name for item in unique}
    }
    pre = _check_pre_annotations(project, unique, given)
    report: dict[str, Any] = {"skipped": upload.skipped, "duplicates": duplicates}
    if upload.labels:
        imported, report["labels"] = labelling.imported_labels(
            project, unique, aliases, upload.labels, upload.labels_format, url_names
        )
        for name in url_names & set(imported):  # checked again once downloaded
            later.setdefault(name, imported.pop(name))
        pre = {**imported, **pre}  # an answer given in pre_annotations wins over a file's
    if folder_entry is not None:
        from_folders = {
            item.name: {"label": label}
            for item, label in zip(unique, by_folder, strict=True)
            if label is not None
        }
        pre = {**from_folders, **pre}
        report.setdefault("labels", []).append(folder_entry)
    for item in unique:
        store.put(item.data)
    if upload.urls:
        report["fetching"] = len(upload.urls)
    with transaction(session):
        batch = Batch(
            id=new_id("bat"),
            project_id=project.id,
            requester_id=requester.id,
            status=BatchStatus.draft,
            task_count=len(unique),
            upload_report=report,
            created_at=now,
        )
        session.add(batch)
        image_ids = image_rows(session, requester, unique, now)
        session.add_all(
            Task(
                id=new_id("tsk"),
                batch_id=batch.id,
                project_id=project.id,
                image_id=image_ids[item.info.sha256],
                image_name=item.name,
                status=TaskStatus.draft,
                pre_annotation=pre.get(item.name),
                answer_count=0,
                created_at=now,
            )
            for item in unique
        )
        session.add_all(
            ImageFetch(
                id=new_id("fch"),
                batch_id=batch.id,
                url=url,
                name=name,
                pre_annotation=later.get(name),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for url, name in urls
        )
    return batch


def _pre_key(name: str, finals: set[str], aliases: dict[str, str]) -> str:
    """The image a pre-annotation key names: a final name, or a name as uploaded."""
    if name in finals:
        return name
    return aliases.get(clean_name(name), name)


def _name_images(
    images: list[CheckedImage], urls: list[tuple[str, str]]
) -> tuple[list[CheckedImage], list[tuple[str, str]], dict[str, str]]:
    """Each image's name in the batch, by the one rule of ``app.images.names``, in upload
    order; and ``aliases``: the name as uploaded (cleaned) → the first image's final name, so a
    pre-annotation keyed by ``photo`` finds ``photo.png`` and ``a:b.jpg`` finds ``a_b.jpg``.
    A URL image gets its extension when downloaded; its stem is reserved now."""
    names = BatchNames()
    aliases: dict[str, str] = {}
    named: list[CheckedImage] = []
    for item in images:
        name = names.allocate(with_extension(item.name, item.info.media_type))
        aliases.setdefault(item.name, name)
        named.append(replace(item, name=name))
    named_urls = []
    for url, raw in urls:
        name = names.allocate(raw, extension_pending=True)
        aliases.setdefault(raw, name)
        named_urls.append((url, name))
    return named, named_urls, aliases


def _check_images(
    upload: Upload, limits: ImageLimits, max_images: int, *, skip_invalid: bool = False
) -> tuple[list[CheckedImage], list[dict[str, str]]]:
    if not upload.images and not upload.urls:
        raise EmptyUpload("No image in the upload.", extra={"skipped": upload.skipped})
    if len(upload.images) + len(upload.urls) > max_images:
        raise PayloadTooLarge(
            f"{len(upload.images) + len(upload.urls)} images in one batch; the limit is {max_images}."
        )
    unique: dict[str, CheckedImage] = {}
    duplicates: list[dict[str, str]] = []
    for name, data in upload.images:
        try:
            info = inspect_image(data, limits)
        except ImageError as exc:
            if not skip_invalid:
                raise image_problem(exc, name) from None
            upload.skipped.append({"name": name, "reason": exc.detail})
            continue
        if info.sha256 in unique:
            duplicates.append({"name": name, "same_as": unique[info.sha256].name})
        else:
            unique[info.sha256] = CheckedImage(name, data, info)
    if not unique and not upload.urls:
        raise EmptyUpload("No valid image in the upload.", extra={"skipped": upload.skipped})
    return list(unique.values()), duplicates


def _check_pre_annotations(
    project: Project,
    images: list[CheckedImage],
    given: dict[str, Any],
    *,
    loc: tuple[str, ...] | None = None,
) -> dict[str, dict[str, Any]]:
    """Answers given with the upload, checked against the spec and each image's size; ``loc``
    is where they sit in the request (by default ``body.pre_annotations.<image name>``)."""
    by_name = {item.name: item.info for item in images}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise UnknownImageNames("pre_annotations", unknown)
    spec = AnnotationSpec.model_validate(project.annotation)
    checked: dict[str, dict[str, Any]] = {}
    for name, answer in given.items():
        info = by_name[name]
        try:
            checked[name] = validate_answer(spec, answer, width=info.width, height=info.height)
        except AnswerInvalid as exc:
            where = list(loc) if loc is not None else ["body", "pre_annotations", name]
            raise AnswerRefused(exc, at=where, detail=f"{name}: {exc.detail}") from None
    return checked


def image_rows(
    session: Session, owner: Account, images: list[CheckedImage], now: datetime
) -> dict[str, str]:
    """One row per (owner, sha256); an image uploaded before is reused, not duplicated."""
    for item in images:
        insert_ignore(
            session,
            Image,
            {
                "id": new_id("img"),
                "owner_id": owner.id,
                "sha256": item.info.sha256,
                "media_type": item.info.media_type,
                "width": item.info.width,
                "height": item.info.height,
                "size_bytes": item.info.size_bytes,
                "created_at": now,
            },
            conflict=["owner_id", "sha256"],
        )
    shas = [item.info.sha256 for item in images]
    rows = session.execute(
        select(Image.sha256, Image.id).where(Image.owner_id == owner.id, Image.sha256.in_(shas))
    )
    return {row.sha256: row.id for row in rows}


@dataclass(frozen=True)
class Added:
    """What one addition to a draft batch did, image by image (the order of the upload)."""

    batch: Batch
    added: list[dict[str, str]]
    """``{"name", "sha256", "task_id"}`` of the tasks this request created."""
    present: list[dict[str, str]]
    """``{"name", "sha256", "task_id"}`` of images the batch already held (sent again: a
    resumed or retried upload); no task was created for them."""
    duplicates: list[dict[str, str]]
    """Images repeated within the request itself."""
    labels: list[dict[str, Any]]
    """The report of the request's label files (``app.imports``), one entry per file."""


def add_images(
    session: Session,
    store: ImageStore,
    requester: Account,
    batch_id: str,
    upload: Upload,
    *,
    pre_annotations: dict[str, Any] | None,
    limits: ImageLimits,
    max_images: int,
    now: datetime,
    skip_invalid: bool = False,
) -> Added:
    """Add images to a draft batch, one task per image the batch does not hold yet.

    An image is identified by its bytes (sha256): sending one again, under any name, creates no
    second task, so a client can resend a chunk whose response it never saw. Additions to one
    batch are serialised by its row lock (the slow checks and the stores happen before it).
    """
    batch = get_own(session, requester, batch_id)
    if batch.status != BatchStatus.draft:
        raise BatchStateConflict(f"Batch {batch.id} is {batch.status}; images go into a draft.")
    project = session.get_one(Project, batch.project_id)
    # End the read, as in `create`: a bare commit, since `read_only` would join the idempotency
    # transaction this write use case runs in and keep the writer through the slow checks.
    session.commit()
    labelling.masks_as_labels(project, upload)
    unique, duplicates = _check_images(upload, limits, max_images, skip_invalid=skip_invalid)
    if upload.labels:
        unique = labelling.without_dataset_folder(unique)
    aliases = {item.name: with_extension(item.name, item.info.media_type) for item in unique}
    unique = [replace(item, name=aliases[item.name]) for item in unique]
    given = {
        _pre_key(name, set(aliases.values()), aliases): answer
        for name, answer in (pre_annotations or {}).items()
    }
    pre = _check_pre_annotations(project, unique, given)
    labels_report: list[dict[str, Any]] = []
    if upload.labels:
        imported, labels_report = labelling.imported_labels(
            project, unique, aliases, upload.labels, upload.labels_format
        )
        pre = {**imported, **pre}  # an answer given in pre_annotations wins over a file's
    for item in unique:
        store.put(item.data)
    with transaction(session):
        # The row lock serialises additions; populate_existing reads the locked row afresh
        # (the session already holds this batch from the check above).
        batch = session.scalars(
            select(Batch)
            .where(Batch.id == batch.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).one()
        if batch.status != BatchStatus.draft:
            raise BatchStateConflict(f"Batch {batch.id} is {batch.status}; images go into a draft.")
        image_ids = image_rows(session, requester, unique, now)
        held: dict[str, str] = dict(
            session.execute(
                select(Task.image_id, Task.id).where(
                    Task.batch_id == batch.id, Task.image_id.in_(list(image_ids.values()))
                )
            ).all()
        )
        fresh = [item for item in unique if image_ids[item.info.sha256] not in held]
        if batch.task_count + len(fresh) + len(upload.urls) > max_images:
            raise PayloadTooLarge(
                f"The batch would hold {batch.task_count + len(fresh) + len(upload.urls)} "
                f"images; the limit is {max_images}."
            )
        # Names unique in the whole batch by the one rule (app.images.names): those it has,
        # and those its pending downloads reserved, are taken.
        names = BatchNames(
            [
                *session.scalars(select(Task.image_name).where(Task.batch_id == batch.id)),
                *session.scalars(
                    select(ImageFetch.name).where(
                        ImageFetch.batch_id == batch.id, ImageFetch.status == "pending"
                    )
                ),
            ]
        )
        added: list[dict[str, str]] = []
        for item in fresh:
            task = Task(
                id=new_id("tsk"),
                batch_id=batch.id,
                project_id=batch.project_id,
                image_id=image_ids[item.info.sha256],
                image_name=names.allocate(item.name),
                status=TaskStatus.draft,
                pre_annotation=pre.get(item.name),
                answer_count=0,
                created_at=now,
            )
            session.add(task)
            added.append({"name": task.image_name, "sha256": item.info.sha256, "task_id": task.id})
        session.add_all(
            ImageFetch(
                id=new_id("fch"),
                batch_id=batch.id,
                url=url,
                name=names.allocate(name, extension_pending=True),
                pre_annotation=None,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for url, name in upload.urls
        )
        batch.task_count += len(fresh)
        if duplicates or upload.skipped or upload.urls or labels_report:
            report = dict(batch.upload_report)
            report["duplicates"] = [*report.get("duplicates", []), *duplicates]
            report["skipped"] = [*report.get("skipped", []), *upload.skipped]
            if upload.urls:
                report["fetching"] = report.get("fetching", 0) + len(upload.urls)
            if labels_report:
                report["labels"] = [*report.get("labels", []), *labels_report]
            batch.upload_report = report
    present = [
        {
            "name": item.name,
            "sha256": item.info.sha256,
            "task_id": held[image_ids[item.info.sha256]],
        }
        for item in unique
        if image_ids[item.info.sha256] in held
    ]
    return Added(
        batch=batch, added=added, present=present, duplicates=duplicates, labels=labels_report
    )


def create_gold(
    session: Session,
    store: ImageStore,
    requester: Account,
    project_id: str,
    name: str,
    data: bytes,
    answer: object,
    *,
    pre_annotation: object = None,
    limits: ImageLimits,
    now: datetime,
) -> Task:
    """A gold task: the image checked like any upload, the known answer (and the pre-annotation
    workers start from, if any) checked against the spec."""
    project = project_service.get_own(session, requester, project_id)
    # End the read, as in `create`: a bare commit, since `read_only` would join the idempotency
    # transaction this write use case runs in and keep the writer through the slow checks.
    session.commit()
    [item], _ = _check_images(Upload(images=[(name, data)]), limits, 1)
    item = replace(item, name=with_extension(item.name, item.info.media_type))
    [known] = _check_pre_annotations(
        project, [item], {item.name: answer}, loc=("body", "answer")
    ).values()
    start = (
        None
        if pre_annotation is None
        else _check_pre_annotations(
            project, [item], {item.name: pre_annotation}, loc=("body", "pre_annotation")
        )[item.name]
    )
    store.put(item.data)
    with transaction(session):
        image_ids = image_rows(session, requester, [item], now)
        return gold.add(
            session,
            project,
            name=item.name,
            image_id=image_ids[item.info.sha256],
            answer=known,
            pre_annotation=start,
            now=now,
        )


@dataclass(frozen=True)
class GoldImport:
    """What one gold import made: the gold tasks, and the report of its files."""

    tasks: list[Task]
    labels: list[dict[str, Any]]
    duplicates: list[dict[str, str]]


def import_gold(
    session: Session,
    store: ImageStore,
    requester: Account,
    project_id: str,
    upload: Upload,
    *,
    limits: ImageLimits,
    max_images: int,
    now: datetime,
) -> GoldImport:
    """Gold tasks from images and label files (``app.imports``), as an upload reads them: each
    image a file gives an answer (validated like any answer, "no object" included) becomes a
    gold task with it; the others are reported, not made gold. Nothing is stored unless at
    least one image has an answer; a file that cannot be read refuses the whole import."""
    project = project_service.get_own(session, requester, project_id)
    session.commit()  # end the read, as in `create`
    labelling.masks_as_labels(project, upload)
    unique, duplicates = _check_images(upload, limits, max_images)
    if upload.labels:
        unique = labelling.without_dataset_folder(unique)
    unique, by_folder, folder_entry = labelling.class_folders(project, unique, upload)
    unique, _, aliases = _name_images(unique, [])
    answers, report = labelling.imported_labels(
        project, unique, aliases, upload.labels, upload.labels_format, gold=True
    )
    if folder_entry is not None:
        for item, label in zip(unique, by_folder, strict=True):
            if label is not None:
                answers.setdefault(item.name, {"label": label})
        report.append(folder_entry)
    missing = [item.name for item in unique if item.name not in answers]
    if missing:
        report.append(
            {
                "file": "(images)",
                "problems": [
                    f"{name}: no label file answers it; not made gold" for name in missing[:50]
                ],
                "problem_count": len(missing),
            }
        )
    chosen = [item for item in unique if item.name in answers]
    if not chosen:
        raise EmptyUpload(
            "No image of the upload has an answer in its label files.", extra={"labels": report}
        )
    for item in chosen:
        store.put(item.data)
    with transaction(session):
        image_ids = image_rows(session, requester, chosen, now)
        tasks = [
            gold.add(
                session,
                project,
                name=item.name,
                image_id=image_ids[item.info.sha256],
                answer=answers[item.name],
                now=now,
            )
            for item in chosen
        ]
    return GoldImport(tasks=tasks, labels=report, duplicates=duplicates)


def of_project(
    session: Session, requester: Account, project_id: str, page: PageParams
) -> Sequence[Batch]:
    """The requester's batches of one of its projects, newest first (``limit + 1`` rows)."""
    project_service.get_own(session, requester, project_id)
    stmt = select(Batch).where(
        Batch.project_id == project_id,
        Batch.requester_id == requester.id,
        Batch.status != BatchStatus.gold,
    )
    if page.after:
        stmt = stmt.where(Batch.id < page.after)
    return session.scalars(stmt.order_by(Batch.id.desc()).limit(page.limit + 1)).all()


def get_own(
    session: Session, requester: Account, batch_id: str, *, for_update: bool = False
) -> Batch:
    stmt = select(Batch).where(
        Batch.id == batch_id, Batch.requester_id == requester.id, Batch.status != BatchStatus.gold
    )
    batch = session.scalar(stmt.with_for_update(key_share=True) if for_update else stmt)
    if batch is None:
        raise BatchNotFound(f"No batch {batch_id} among yours.")
    return batch


def stats(session: Session, requester: Account, batch_id: str, *, now: datetime) -> dict[str, Any]:
    """The dashboard's figures of the requester's batch (app/batches/stats.py), in one read."""
    with read_only(session):
        return batch_stats(session, get_own(session, requester, batch_id), now=now)


def for_download(session: Session, requester: Account, batch_id: str) -> Batch:
    """The requester's batch, for a streamed download: the read ends here, since the stream reads
    on sessions of its own (`results.export_items`) for as long as the client takes."""
    with read_only(session):
        return get_own(session, requester, batch_id)


def export_spec(session: Session, batch: Batch) -> AnnotationSpec:
    """The annotation spec a download of the batch is written for; ends the read, as
    `for_download` does."""
    with read_only(session):
        project = session.get_one(Project, batch.project_id)
    return AnnotationSpec.model_validate(project.annotation)


def launch(session: Session, requester: Account, batch_id: str, *, now: datetime) -> Batch:
    """Open a draft batch: fix the project's terms for it, escrow the most it can cost (every
    task answered ``overlap.max`` times, plus the platform fee fixed now) and queue its tasks.

    Raises payments.InsufficientFunds (402) when the requester's available balance falls short.
    """
    with transaction(session):
        batch = get_own(session, requester, batch_id, for_update=True)
        if batch.status != BatchStatus.draft:
            raise BatchStateConflict(
                f"Batch {batch.id} is {batch.status}; only a draft batch can launch."
            )
        fetching = session.scalar(
            select(func.count()).where(
                ImageFetch.batch_id == batch.id, ImageFetch.status == "pending"
            )
        )
        if fetching:
            raise BatchStateConflict(
                f"{fetching} images of batch {batch.id} are still being downloaded; launch after."
            )
        if batch.task_count == 0:
            raise BatchStateConflict(
                f"Batch {batch.id} has no task: every image failed (see upload_report)."
            )
        project = session.get_one(Project, batch.project_id)
        batch.reward_micros = project.reward_micros
        batch.overlap_min, batch.overlap_max = project.overlap_min, project.overlap_max
        batch.confidence = project.confidence
        batch.gold_left = _gold_allowance(session, batch, project)
        # One escrow for every answer the batch may pay: its tasks at full overlap and its gold.
        payments.launch_escrow(
            session,
            batch_ref=batch.id,
            requester_ref=requester.id,
            tasks=1,
            max_overlap=batch.task_count * project.overlap_max + batch.gold_left,
            reward=project.reward_micros,
            now=now,
        )
        batch.status, batch.launched_at = BatchStatus.open, now
        webhook_events.batch_launched(session, batch, now=now)
        session.execute(
            update(Task).where(Task.batch_id == batch.id).values(status=TaskStatus.open)
        )
        task_ids = session.scalars(select(Task.id).where(Task.batch_id == batch.id)).all()
        session.execute(
            insert(TaskQueueEntry),
            [
                {
                    "task_id": t,
                    "project_id": batch.project_id,
                    "batch_id": batch.id,
                    "open_slots": batch.overlap_max,
                }
                for t in task_ids
            ],
        )
    return batch


def _gold_allowance(session: Session, batch: Batch, project: Project) -> int:
    """Gold answers a batch launched now would pay for, on top of its tasks at full overlap."""
    if not _has_gold(session, project):
        return 0
    return gold.allowance(
        batch.task_count, project.overlap_max, project.gold_rate, project.qualification_gold_tasks
    )


def launch_quote(session: Session, batch: Batch) -> dict[str, Any] | None:
    """What launching this draft batch now would escrow, at the project's terms and today's fee
    (the most it can cost; dynamic overlap usually spends less and the rest is refunded)."""
    if batch.status != BatchStatus.draft or batch.task_count == 0:
        return None
    project = session.get_one(Project, batch.project_id)
    fee_ppm = payments.read_payment_settings(session).fee_ppm
    answers = batch.task_count * project.overlap_max + _gold_allowance(session, batch, project)
    cost = payments.escrow_cost(1, answers, project.reward_micros, fee_ppm)
    return {
        "answers": answers,
        "reward": project.reward_micros,
        "fee": cost.fee_per_answer,
        "total": cost.total,
    }


def _has_gold(session: Session, project: Project) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Task.project_id == project.id, Task.is_gold.is_(True)))
        )
    )


def cancel(session: Session, requester: Account, batch_id: str, *, now: datetime) -> Batch:
    """Stop handing out the batch's tasks. Leases already out may still be submitted."""
    with transaction(session):
        batch = get_own(session, requester, batch_id, for_update=True)
        if batch.status not in (BatchStatus.draft, BatchStatus.open):
            raise BatchStateConflict(f"Batch {batch.id} is {batch.status} already.")
        session.execute(delete(TaskQueueEntry).where(TaskQueueEntry.batch_id == batch.id))
        session.execute(
            update(Task)
            .where(Task.batch_id == batch.id, Task.status.in_([TaskStatus.draft, TaskStatus.open]))
            .values(status=TaskStatus.cancelled)
        )
        if batch.status == BatchStatus.draft:
            batch.settled_at = now  # nothing was escrowed
        batch.status, batch.cancelled_at = BatchStatus.cancelled, now
    return batch


def settle_due(session: Session, *, now: datetime, limit: int = 50) -> int:
    """Close the books of batches whose work is over: every task complete (or the batch
    cancelled) and no answer still leased or waiting for a verdict. The batch completes and its
    unspent escrow returns to the requester, once (the refund is unique per batch)."""
    # An answer is not final while leased, awaiting its verdict, open to appeal, or appealed.
    unfinished = exists().where(
        Assignment.batch_id == Batch.id,
        or_(
            Assignment.status.in_([AssignmentStatus.leased, AssignmentStatus.submitted]),
            and_(
                Assignment.status == AssignmentStatus.rejected,
                Assignment.appealed_at.is_(None),
                Assignment.appeal_until > now,
            ),
            and_(Assignment.appealed_at.is_not(None), Assignment.appeal_outcome.is_(None)),
        ),
    )
    work_over = or_(
        Batch.status == BatchStatus.cancelled,
        and_(Batch.status == BatchStatus.open, completed_in(Batch.id) >= Batch.task_count),
    )
    with transaction(session):
        due = session.scalars(
            select(Batch)
            .where(Batch.settled_at.is_(None), work_over, ~unfinished)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for batch in due:
            if batch.status == BatchStatus.open:
                batch.status, batch.completed_at = BatchStatus.completed, now
                webhook_events.batch_completed(session, batch, now=now)
            payments.refund_escrow(session, batch_ref=batch.id, now=now)
            batch.settled_at = now
    return len(due)


def task_counts(session: Session, batch: Batch) -> dict[str, int]:
    completed = session.scalar(select(completed_in(batch.id))) or 0
    by_status = dict(
        session.execute(
            select(Assignment.status, func.count())
            .where(Assignment.batch_id == batch.id)
            .group_by(Assignment.status)
        ).all()
    )
    answered = (AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected)
    # Images named by URL still being downloaded (a draft batch launches once this is 0).
    fetching = (
        session.scalar(
            select(func.count()).where(
                ImageFetch.batch_id == batch.id, ImageFetch.status == "pending"
            )
        )
        if batch.status == BatchStatus.draft
        else 0
    )
    return {
        "tasks": batch.task_count,
        "fetching": fetching or 0,
        "completed_tasks": completed,
        "answers": sum(by_status.get(s, 0) for s in answered),
        "accepted": by_status.get(AssignmentStatus.accepted, 0),
        "rejected": by_status.get(AssignmentStatus.rejected, 0),
        "leased": by_status.get(AssignmentStatus.leased, 0),
    }


def progress(session: Session, batch: Batch, *, now: datetime) -> dict[str, Any]:
    """Answers used against the most the batch may use, and a projection of its final cost and
    finish time from the pace so far (answers per completed task, tasks completed per second)."""
    escrow = session.get(Escrow, batch.id)
    used = (
        session.scalar(
            select(func.count()).where(
                Assignment.batch_id == batch.id,
                Assignment.status.in_(
                    [
                        AssignmentStatus.submitted,
                        AssignmentStatus.accepted,
                        AssignmentStatus.rejected,
                    ]
                ),
            )
        )
        or 0
    )
    completed, done_answers = session.execute(
        select(func.count(), func.coalesce(func.sum(Task.answer_count), 0)).where(
            Task.batch_id == batch.id, Task.status == TaskStatus.completed
        )
    ).one()
    remaining = max(batch.task_count - completed, 0) if batch.status == BatchStatus.open else 0
    per_task = (
        done_answers / completed
        if completed
        else ((batch.overlap_min or 1) + (batch.overlap_max or 1)) / 2
    )
    in_flight = max(used - done_answers, 0)
    projected_answers = used + max(remaining * per_task - in_flight, 0)
    per_answer = escrow.reward + fee_for(escrow.reward, escrow.fee_ppm)[0] if escrow else 0
    eta = None
    if remaining and completed and batch.launched_at is not None:
        rate = completed / max((now - batch.launched_at).total_seconds(), 1.0)
        eta = now + timedelta(seconds=remaining / rate)
    return {
        "answers_used": int(used),
        "answers_max": escrow.max_answers
        if escrow
        else batch.task_count * (batch.overlap_max or 0),
        "projected_answers": round(projected_answers),
        "projected_cost": round(projected_answers * per_answer),
        "eta": eta,
    }
