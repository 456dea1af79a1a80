from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class AnnotatorKind(StrEnum):
    http = "http"
    """The requester's own model server, called for each task (``app.annotators.http``)."""
    builtin = "builtin"
    """A classifier Tessera fits on the project's accepted consensus (``app.annotators.builtin``)."""


class AnnotatorModel(Base):
    """A model attached to a project that predicts answers for its tasks.

    Not to be confused with ``ProjectModel`` (``project_models``), which is the quality loop's
    fitted worker model. A deleted model keeps its row (``deleted_at``) so its predictions keep
    their reference; nothing reads the predictions of a deleted model."""

    __tablename__ = "annotator_models"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    """``http`` only: where predictions are asked for (checked by the SSRF guard)."""
    signing_secret: Mapped[str | None] = mapped_column(String(100))
    """``http`` only: the HMAC key of the ``Tessera-Signature`` header, shown once at creation."""
    timeout_s: Mapped[float] = mapped_column(Float, default=10.0)
    state: Mapped[dict[str, Any] | None]
    """``builtin`` only: the fitted classifier as JSON (coefficients, classes, feature spec)."""
    trained_on: Mapped[int] = mapped_column(Integer, default=0)
    """``builtin``: how many consensus tasks the last fit learnt from."""
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Incremented by every refit; a prediction records the version that made it."""
    fitted_at: Mapped[datetime | None]
    requested_at: Mapped[datetime]
    """``builtin``: not looked at by the refit reconciler before then (a claim pushes it ahead)."""
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Prediction(Base):
    """A model's answer for a task, in the project's answer shape, with its score (0..1).

    One per (task, model): a refit of a ``builtin`` model overwrites the prediction of a task
    still open (``model_version`` says which fit made it)."""

    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("task_id", "model_id"),
        Index("ix_predictions_model_id", "model_id"),
        Index("ix_predictions_project_id", "project_id"),
    )

    id: Mapped[str] = id_column()
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"))
    model_id: Mapped[str] = mapped_column(ForeignKey("annotator_models.id"))
    project_id: Mapped[str] = mapped_column(String(32))
    answer: Mapped[dict[str, Any]]
    score: Mapped[float] = mapped_column(Float)
    model_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ModelCall(Base):
    """The delivery state of one (task, ``http`` model) request: ``pending`` until it gives a
    prediction (``done``) or is given up with the reason (``failed``). Retried with backoff."""

    __tablename__ = "model_calls"
    __table_args__ = (Index("ix_model_calls_status_next_attempt_at", "status", "next_attempt_at"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("annotator_models.id"), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    """When it is due; a claim pushes it past the call's timeout, so a killed caller retries."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
