"""Consensus at submit, dynamic overlap, verdicts with evidence, worker skill and bans.

Runs inside the submit transaction: the task row is locked by its answer-count update, so two
answers to one task are judged one after the other, never against a stale consensus.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.annotations import AnnotationSpec
from app.annotators.service import predictions_for
from app.answers import service as answer_service
from app.core.db import transaction
from app.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Batch,
    BatchStatus,
    Image,
    Project,
    ProjectModel,
    Task,
    TaskStatus,
    WorkerSkill,
)
from app.quality import gold
from app.quality import settings as quality_settings
from app.quality.engine import (
    MODEL_PRIOR_ACCURACY,
    ClassificationEngine,
    Consensus,
    Engine,
    TaskAnswer,
    engine_for,
)
from app.quality.errors import WorkerBanned
from app.quality.settings import Thresholds
from app.quality.skills import (
    add_confusion,
    ban_reason,
    confusion_ban_reason,
    confusion_mean,
    confusion_skill,
    estimate,
)
from app.webhooks import events as webhook_events
from app.work import queue

EXCLUDED = "excluded: the worker was banned from this project"
LABELED_BY_MODEL = "model"
_AUDIT = secrets.SystemRandom()


def check_not_banned(worker: Account, row: WorkerSkill | None) -> None:
    """``row`` is the worker's skill row for the project (the caller reads it with its other checks)."""
    if worker.banned_at is not None:
        raise WorkerBanned(f"Your account is banned: {worker.ban_reason}")
    if row is not None and row.banned_at is not None:
        raise WorkerBanned(f"You are banned from this project: {row.ban_reason}")


def operator_ban(
    session: Session, worker: Account, reason: str, project_id: str | None, *, now: datetime
) -> None:
    """Ban on one project (its leases and unfinished answers handled as for a rule ban), or,
    without a project, on the whole account (every project's open work released)."""
    if project_id is not None:
        project = session.get_one(Project, project_id)
        ban(
            session,
            _skill_row(session, project, worker.id, now=now),
            reason,
            by="operator",
            now=now,
        )
        return
    worker.banned_at, worker.ban_reason = now, reason
    projects = session.scalars(
        select(Assignment.project_id)
        .where(
            Assignment.worker_id == worker.id,
            Assignment.status.in_([AssignmentStatus.leased, AssignmentStatus.submitted]),
        )
        .distinct()
    ).all()
    for pid in projects:
        row = _skill_row(session, session.get_one(Project, pid), worker.id, now=now)
        if row.banned_at is None:
            ban(session, row, reason, by="operator", now=now)


def operator_unban(session: Session, worker: Account, project_id: str | None) -> None:
    rows = session.scalars(
        select(WorkerSkill).where(
            WorkerSkill.worker_id == worker.id,
            *([WorkerSkill.project_id == project_id] if project_id else []),
        )
    ).all()
    for row in rows:
        row.banned_at, row.ban_reason, row.banned_by = None, None, None
    if project_id is None:
        worker.banned_at, worker.ban_reason = None, None


def _answers(
    session: Session, project_id: str, task_id: str, new: Assignment | None = None
) -> tuple[Sequence[Assignment], dict[str, WorkerSkill]]:
    """The task's answers that count (none of a worker banned from the project), in order, with
    their workers' skill rows (one round trip).
    ``new`` is the answer being submitted, not flushed yet (its row is written once, at commit,
    with its verdict): the statement reads it by id, and the session hands back the object as
    it is in memory."""
    counted = and_(
        Assignment.status.in_(
            [AssignmentStatus.submitted, AssignmentStatus.accepted, AssignmentStatus.rejected]
        ),
        (Assignment.reason.is_(None)) | (Assignment.reason != EXCLUDED),
    )
    rows = session.execute(
        select(Assignment, WorkerSkill)
        .outerjoin(
            WorkerSkill,
            and_(
                WorkerSkill.project_id == project_id, WorkerSkill.worker_id == Assignment.worker_id
            ),
        )
        .where(
            Assignment.task_id == task_id,
            counted if new is None else (counted | (Assignment.id == new.id)),
        )
        .order_by(Assignment.submitted_at, Assignment.id)
    ).all()
    # A worker banned from the project has no say in any of its tasks' consensus (its answers
    # to open tasks are also rejected by the ban; those to completed tasks keep their verdicts).
    answers = [
        a
        for a, skill in rows
        if skill is None or skill.banned_at is None or (new is not None and a.id == new.id)
    ]
    if new is not None:
        answers.sort(key=lambda a: (a.submitted_at is None, a.submitted_at, a.id))
    return answers, {s.worker_id: s for _, s in rows if s is not None}


@dataclass(frozen=True)
class Loaded:
    """What the submit read with its task lock, so that judging the answer reads none of it
    again: the project, the image, the operator's thresholds (defaults when the row is absent)
    and the version of the project's fitted model (None: no model)."""

    project: Project
    image: Image
    thresholds: Thresholds
    model_version: int | None


_ENGINES: dict[tuple[object, ...], Engine] = {}
_ENGINES_MAX = 512


def _engine(session: Session, project: Project, task: Task, loaded: Loaded | None = None) -> Engine:
    """The project's engine for this image size and fitted model, parsed once per process and
    (project, spec, image size, model version): the version is read from the database with the
    task (``Loaded``) or here, so a process never judges with a model older than the stored one.
    Engines hold no state between calls."""
    if loaded is not None:
        image, version = loaded.image, loaded.model_version
    else:
        image = session.get_one(Image, task.image_id)
        version = session.scalar(
            select(ProjectModel.version).where(
                ProjectModel.project_id == project.id, ProjectModel.state.is_not(None)
            )
        )
    key = (
        project.id,
        json.dumps(project.annotation, sort_keys=True),
        image.width,
        image.height,
        version,
    )
    engine = _ENGINES.get(key)
    if engine is None:
        state = (
            session.scalar(select(ProjectModel.state).where(ProjectModel.project_id == project.id))
            if version is not None
            else None
        )
        engine = engine_for(
            AnnotationSpec.model_validate(project.annotation),
            width=image.width,
            height=image.height,
            fitted=state,
        )
        if len(_ENGINES) >= _ENGINES_MAX:
            _ENGINES.pop(next(iter(_ENGINES)))
        _ENGINES[key] = engine
    return engine


def on_answer(
    session: Session,
    assignment: Assignment,
    task: Task,
    *,
    now: datetime,
    loaded: Loaded | None = None,
) -> None:
    """A new answer: recompute the task's consensus; complete and judge when it is sure enough.
    A gold answer is judged against the known answer instead (``_answer_gold`` says when).
    ``assignment`` may be unflushed (the submit writes it once, at commit)."""
    project = loaded.project if loaded is not None else session.get_one(Project, task.project_id)
    thresholds = loaded.thresholds if loaded is not None else quality_settings.current(session)
    if _too_fast(session, project, assignment, now=now):
        return  # the worker was banned: its answer left the task with the rest of its open work
    engine = _engine(session, project, task, loaded)
    if task.is_gold:
        _answer_gold(session, project, engine, task, assignment, thresholds, now=now)
        return
    _update_consensus(session, project, engine, task, assignment, thresholds, now=now)


def _too_fast(session: Session, project: Project, assignment: Assignment, *, now: datetime) -> bool:
    """Count an answer quicker than the project's floor; enough of them ban the worker."""
    if (
        not project.min_answer_s
        or (now - assignment.leased_at).total_seconds() >= project.min_answer_s
    ):
        return False
    row = _skill_rows(session, project, [assignment.worker_id], now=now)[assignment.worker_id]
    row.fast_answers += 1
    if row.banned_at is not None or row.fast_answers < project.fast_answers_to_ban:
        return False
    ban(
        session,
        row,
        f"{row.fast_answers} answers faster than this project's floor of {project.min_answer_s} s",
        by="rule",
        now=now,
    )
    return True


def on_prediction(session: Session, task: Task, *, now: datetime) -> None:
    """A model's prediction for ``task`` was recorded (``app.annotators.service.
    record_prediction``, in its transaction, the task row locked): the open task's consensus
    again, with the model as one more answerer, which may complete it (auto-labelling, or
    enough human answers that the model now agrees with). Gold tasks keep the crowd's."""
    if task.status != TaskStatus.open or task.is_gold:
        return
    project = session.get_one(Project, task.project_id)
    engine = _engine(session, project, task)
    _update_consensus(
        session, project, engine, task, None, quality_settings.current(session), now=now
    )


def _predicted(session: Session, task_id: str) -> list[TaskAnswer]:
    """The task's predictions by live models, as answers of the models: weighted by the
    models' fitted skills (none before a fit has measured them), never judged, never paid."""
    return [
        TaskAnswer(p.model_id, p.answer, MODEL_PRIOR_ACCURACY, model=True)
        for p in predictions_for(session, [task_id])[task_id]
    ]


def refresh_task(session: Session, task: Task, *, now: datetime) -> None:
    """Recompute an open task's consensus with the current skills (after a re-estimation)."""
    project = session.get_one(Project, task.project_id)
    engine = _engine(session, project, task)
    _update_consensus(
        session, project, engine, task, None, quality_settings.current(session), now=now
    )


def _task_answers(
    engine: Engine, answers: Sequence[Assignment], skills: dict[str, WorkerSkill]
) -> list[TaskAnswer]:
    """The answers as the engine reads them: each with its worker's one-coin accuracy and, for
    classification, its worker's confusion matrix (app.quality.skills)."""
    k = len(engine.labels) if isinstance(engine, ClassificationEngine) else 0
    out = []
    for a in answers:
        row = skills.get(a.worker_id)
        confusion = verified = None
        if k and row is not None and row.confusion is not None:
            skill = confusion_skill(row, k)
            confusion, verified = skill.matrix, confusion_mean(skill.gold)
        accuracy = estimate(row).accuracy
        out.append(TaskAnswer(a.worker_id, a.answer or {}, accuracy, confusion, verified))
    return out


def _evidence(
    engine: Engine, task_answers: Sequence[TaskAnswer], answers: Sequence[Assignment]
) -> dict[str, tuple[np.ndarray, int]]:
    """Classification: per answer id, the others' belief over the true label and the index of
    the label it gave (what its worker's confusion row is graded with); nothing otherwise."""
    if not isinstance(engine, ClassificationEngine) or len(answers) < 2:
        return {}  # an answer alone has no one else to be checked against
    index = {lab: i for i, lab in enumerate(engine.labels)}
    # People's answers come first, then the models' (who vouch as their fit says, and are
    # never graded themselves).
    people = list(task_answers[: len(answers)])
    beliefs = engine.leave_one_out(task_answers)[: len(answers)]
    return {
        a.id: (loo, index[t.answer["label"]])
        for a, t, loo in zip(answers, people, beliefs, strict=True)
        if t.answer.get("label") in index
    }


def _update_consensus(
    session: Session,
    project: Project,
    engine: Engine,
    task: Task,
    assignment: Assignment | None,
    thresholds: Thresholds,
    *,
    now: datetime,
) -> None:
    batch = session.get_one(Batch, task.batch_id)
    answers, skills = _answers(session, project.id, task.id, assignment)
    predicted = _predicted(session, task.id)
    task_answers = [*_task_answers(engine, answers, skills), *predicted]
    consensus = engine.consensus(task_answers)
    task.consensus, task.confidence, task.object_confidences = (
        consensus.answer,
        consensus.confidence,
        consensus.object_confidences,
    )
    if task.status == TaskStatus.completed:
        if assignment is not None:
            # a late answer
            evidence = _evidence(engine, task_answers, answers)
            _judge(session, project, engine, consensus, [assignment], thresholds, evidence, now=now)
        return
    # Only people count toward overlap.min and overlap.max; a model's vote only makes the
    # consensus surer (or less sure) — unless auto-labelling lets it finish a task alone.
    n = len(answers)
    if not n:
        if predicted and _auto_label(project, batch, task, consensus):
            complete_task(session, task, now=now)
            task.labeled_by = LABELED_BY_MODEL
        return
    confident = n >= (batch.overlap_min or 1) and consensus.confidence >= (batch.confidence or 1.0)
    if n and (confident or n >= (batch.overlap_max or 0)):
        complete_task(session, task, now=now)
        evidence = _evidence(engine, task_answers, answers)
        _judge(session, project, engine, consensus, answers, thresholds, evidence, now=now)


def _auto_label(project: Project, batch: Batch, task: Task, consensus: Consensus) -> bool:
    """Whether the models complete this task alone: auto-labelling is on, their consensus
    reaches the batch's target, and the task is not drawn for audit. The draw is made once,
    the first time the models are sure enough, and kept (``tasks.audit``): an audited task goes
    to people like any other (nothing in a lease tells it apart), and later predictions cannot
    redraw it."""
    if not project.auto_label or task.is_gold:
        return False
    if consensus.confidence < (batch.confidence or 1.0):
        return False
    if task.audit is None:
        task.audit = _AUDIT.random() < project.auto_label_audit
    return not task.audit


def _answer_gold(
    session: Session,
    project: Project,
    engine: Engine,
    task: Task,
    assignment: Assignment,
    thresholds: Thresholds,
    *,
    now: datetime,
) -> None:
    """A gold answer at submit. It does what a real answer to an open task does (the crowd's
    consensus over the task's answers, kept for the requester), so its latency does not mark it
    as gold. A worker taking the qualification (every lease gold, so nothing to hide) is judged
    at once; a qualified worker's mixed-in gold is judged a moment later by ``grade_gold_due``,
    away from its submit, so no figure or ban the worker sees moves with that submit."""
    answers, skills = _answers(session, project.id, task.id, assignment)
    # The models' predictions too, as for a real task: the same reads, the same latency.
    crowd = engine.consensus(
        [*_task_answers(engine, answers, skills), *_predicted(session, task.id)]
    )
    task.consensus, task.confidence = crowd.answer, crowd.confidence
    if gold.qualifying(project, skills.get(assignment.worker_id)):
        _judge_gold(session, project, engine, task, assignment, thresholds, now=now)


def _judge_gold(
    session: Session,
    project: Project,
    engine: Engine,
    task: Task,
    assignment: Assignment,
    thresholds: Thresholds,
    *,
    now: datetime,
) -> None:
    known = Consensus(task.gold_answer or {}, 1.0)
    judgement = engine.judge(assignment.answer or {}, known)
    assignment.agreement = judgement.score
    # Gold evidence reads like any verdict's (engines never quote the consensus's confidence
    # in a reason), so a verdict does not tell the worker which tasks were gold.
    if assignment.status == AssignmentStatus.submitted:
        assignment.proposed_verdict = "accepted" if judgement.accepted else "rejected"
        assignment.reason = judgement.reason
    row = _skill_row(session, project, assignment.worker_id, now=now)
    retry = timedelta(seconds=thresholds.qualification_retry_s)
    gold.record_gold(row, project, judgement.score, now=now, retry=retry)
    evidence = None
    if isinstance(engine, ClassificationEngine):
        index = {lab: i for i, lab in enumerate(engine.labels)}
        truth, given = (task.gold_answer or {}).get("label"), (assignment.answer or {}).get("label")
        if truth in index and given in index:
            evidence = (np.eye(len(index))[index[truth]], index[given])
    _grade(session, project, row, judgement.score, evidence, gold=True, now=now)


def grade_gold_due(session: Session, *, now: datetime, limit: int = 200) -> int:
    """Judge the gold answers not judged at submit (a qualified worker's mixed-in gold), before
    their review window ends: each grades its worker and proposes its verdict."""
    with transaction(session):
        due = session.execute(
            select(Assignment, Task)
            .join(Task, Task.id == Assignment.task_id)
            .join(Batch, Batch.id == Task.batch_id)
            .where(
                Batch.status == BatchStatus.gold,
                Assignment.agreement.is_(None),
                Assignment.status.in_(
                    [
                        AssignmentStatus.submitted,
                        AssignmentStatus.accepted,
                        AssignmentStatus.rejected,
                    ]
                ),
                (Assignment.reason.is_(None)) | (Assignment.reason != EXCLUDED),
            )
            .order_by(Assignment.submitted_at)
            .limit(limit)
            .with_for_update(of=Assignment, skip_locked=True)
        ).all()
        thresholds = quality_settings.current(session)
        for assignment, task in due:
            project = session.get_one(Project, task.project_id)
            engine = _engine(session, project, task)
            _judge_gold(session, project, engine, task, assignment, thresholds, now=now)
    return len(due)


def _skill_row(session: Session, project: Project, worker_id: str, *, now: datetime) -> WorkerSkill:
    return _skill_rows(session, project, [worker_id], now=now)[worker_id]


def _skill_rows(
    session: Session, project: Project, worker_ids: Sequence[str], *, now: datetime
) -> dict[str, WorkerSkill]:
    """The workers' skill rows, locked, the missing ones created: one ``INSERT … ON CONFLICT DO
    UPDATE … RETURNING`` in worker order. The upsert locks an existing row as ``FOR UPDATE``
    would and makes a missing one without the race of a plain INSERT (two first submits of one
    worker colliding on the primary key); rows are taken in worker order, so two submits cannot
    lock in opposite orders."""
    # A row this transaction changed already is locked by it, and newer in memory than stored.
    held = {
        o.worker_id: o
        for o in session.dirty
        if isinstance(o, WorkerSkill) and o.project_id == project.id and o.worker_id in worker_ids
    }
    ids = sorted(set(worker_ids) - held.keys())
    if not ids:
        return held
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(WorkerSkill).values(
        [
            {
                "project_id": project.id,
                "worker_id": w,
                "graded": 0,
                "agreement_sum": 0.0,
                "fast_answers": 0,
                "gold_graded": 0,
                "gold_agreement_sum": 0.0,
                "updated_at": now,
            }
            for w in ids
        ]
    )
    # A no-op assignment: DO UPDATE (not DO NOTHING) so the existing row is locked and returned.
    upsert = stmt.on_conflict_do_update(
        index_elements=["project_id", "worker_id"],
        set_={"project_id": stmt.excluded.project_id},
    ).returning(WorkerSkill)
    rows = session.scalars(upsert, execution_options={"populate_existing": True}).all()
    return {**held, **{r.worker_id: r for r in rows}}


def ban_if_due(
    session: Session, project_id: str, worker_ids: Sequence[str], *, now: datetime
) -> None:
    """The ban rule for workers the hot path graded (app/work/hotpath.py): it cannot compute the
    Beta bound, so it names the workers whose mean accuracy fell below the project's threshold
    and this, a second round trip right after, decides and bans as ``_grade`` would."""
    with transaction(session):
        project = session.get_one(Project, project_id)
        for row in _skill_rows(session, project, worker_ids, now=now).values():
            if row.banned_at is None:
                reason = _ban_reason(project, row)
                if reason is not None:
                    ban(session, row, reason, by="rule", now=now)


def complete_task(session: Session, task: Task, *, now: datetime) -> None:
    task.status, task.completed_at = TaskStatus.completed, now
    queue.remove(session, task.id)
    requester_id = session.get_one(Batch, task.batch_id).requester_id
    webhook_events.task_completed(session, task, requester_id, now=now)
    # No counter on the batch (a hot row every completion would queue on): its completed tasks
    # are counted where read (app.models.task.completed_in). The batch itself completes once every
    # answer also has its verdict (batches.settle_due).


def _judge(
    session: Session,
    project: Project,
    engine: Engine,
    consensus: Consensus,
    answers: Sequence[Assignment],
    thresholds: Thresholds,
    evidence: dict[str, tuple[np.ndarray, int]],
    *,
    now: datetime,
) -> None:
    # A consensus less sure than the operator's threshold rejects no one: benefit of the doubt.
    doubt_below = thresholds.benefit_of_doubt_below
    graded = consensus.confidence >= doubt_below
    skills = (
        _skill_rows(session, project, [a.worker_id for a in answers], now=now) if graded else {}
    )
    for assignment in answers:
        judgement = engine.judge(assignment.answer or {}, consensus)
        assignment.agreement = judgement.score
        if judgement.accepted:
            verdict, reason = "accepted", judgement.reason
        elif consensus.confidence < doubt_below:
            verdict = "accepted"
            reason = f"benefit of the doubt: the consensus is unsure ({consensus.confidence:.2f}); {judgement.reason}"
        else:
            verdict, reason = "rejected", judgement.reason
        if assignment.status == AssignmentStatus.submitted:
            assignment.proposed_verdict, assignment.reason = verdict, reason
        if graded:
            _grade(
                session,
                project,
                skills[assignment.worker_id],
                judgement.score,
                evidence.get(assignment.id),
                now=now,
            )


def _grade(
    session: Session,
    project: Project,
    row: WorkerSkill,
    score: float,
    evidence: tuple[np.ndarray, int] | None,
    *,
    gold: bool = False,
    now: datetime,
) -> None:
    """Count one graded answer: its agreement (the one-coin figures) and, for classification,
    the belief over its task's true label in the column of the label it gave."""
    row.graded += 1
    row.agreement_sum += max(0.0, min(1.0, score))
    if evidence is not None:
        truth, given = evidence
        add_confusion(row, len(truth), truth, given, gold=gold)
    row.updated_at = now
    if row.banned_at is None:
        reason = _ban_reason(project, row)
        if reason is not None:
            ban(session, row, reason, by="rule", now=now)


def _ban_reason(project: Project, row: WorkerSkill) -> str | None:
    """The ban rule: the one-coin accuracy (agreement with the consensus) or, for a
    classification worker with confusion rows, their balanced accuracy (a constant or random
    answerer scores 1/k there), whichever is credibly below the project's threshold."""
    annotation = project.annotation or {}
    if row.confusion is not None and annotation.get("type") == "classification":
        k = len(annotation.get("labels") or [])
        if k >= 2:
            reason = confusion_ban_reason(confusion_skill(row, k), project.ban_below_accuracy)
            if reason is not None:
                return reason
    return ban_reason(estimate(row), project.ban_below_accuracy)


def ban(session: Session, row: WorkerSkill, reason: str, *, by: str, now: datetime) -> None:
    """Stop the worker on the project: release its leases, and take its answers out of the
    consensus of unfinished tasks, which then collect replacement answers."""
    row.banned_at, row.ban_reason, row.banned_by = now, reason, by
    session.flush()  # the submit's own answer may be unflushed: the statements below read it
    open_work = session.scalars(
        select(Assignment)
        .join(Task, Task.id == Assignment.task_id)
        .where(
            Assignment.project_id == row.project_id,
            Assignment.worker_id == row.worker_id,
            Assignment.status.in_([AssignmentStatus.leased, AssignmentStatus.submitted]),
            Task.status == TaskStatus.open,
        )
        .with_for_update(of=Assignment)
    ).all()
    for assignment in open_work:
        if assignment.status == AssignmentStatus.submitted:
            answer_service.record_reject(session, assignment, EXCLUDED, now=now)
            session.execute(
                update(Task)
                .where(Task.id == assignment.task_id)
                .values(answer_count=Task.answer_count - 1)
            )
        else:
            assignment.status, assignment.decided_at = AssignmentStatus.released, now
    excluded = sorted({a.task_id for a in open_work if a.status == AssignmentStatus.rejected})
    queue.return_slots(
        session, [a.task_id for a in open_work if a.status == AssignmentStatus.rejected]
    )
    queue.return_leases(session, [a for a in open_work if a.status == AssignmentStatus.released])
    # An open task keeps the consensus of its last submit until the next one: without this, a
    # task every remaining worker has answered would show the banned worker's vote for good.
    session.flush()
    project = session.get_one(Project, row.project_id)
    for task in session.scalars(select(Task).where(Task.id.in_(excluded)).order_by(Task.id)).all():
        _recompute(session, project, task)
    _drop_from_completed(session, row)


def _recompute(session: Session, project: Project, task: Task) -> None:
    """The task's consensus from the answers that count now (none of a banned worker); a task
    left with none keeps what it had."""
    answers, skills = _answers(session, project.id, task.id)
    if not answers:
        return
    engine = _engine(session, project, task)
    consensus = engine.consensus(_task_answers(engine, answers, skills))
    task.consensus, task.confidence, task.object_confidences = (
        consensus.answer,
        consensus.confidence,
        consensus.object_confidences,
    )


def _drop_from_completed(session: Session, row: WorkerSkill) -> None:
    """Recompute the consensus of the completed tasks the banned worker answered, without it
    (``_answers``): a requester's result does not carry the vote of a worker found to be a
    spammer, even one it gave before the evidence was in. Verdicts already given stand. A task
    another transaction holds is skipped (it is being recomputed there)."""
    project = session.get_one(Project, row.project_id)
    answered = select(Assignment.task_id).where(
        Assignment.project_id == row.project_id, Assignment.worker_id == row.worker_id
    )
    tasks = session.scalars(
        select(Task)
        .where(
            Task.project_id == row.project_id,
            Task.status == TaskStatus.completed,
            Task.is_gold.is_(False),
            Task.id.in_(answered),
        )
        .order_by(Task.id)
        .with_for_update(skip_locked=True)
    ).all()
    for task in tasks:
        _recompute(session, project, task)
