"""Reconcilers of model-assisted labelling (``app/annotators``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.annotators.delivery import CallSettings, call_due
from app.annotators.learning import fit_due, predict_due
from app.core.config import Settings
from app.core.secrets import server_secret
from app.images import ImageStore, UrlSigner
from app.images.store import open_image_store


class CallModels:
    """Each open task is sent to each live ``http`` model of its project once (retried with
    backoff); a valid answer becomes the task's prediction and pre-annotation."""

    name = "models.call"
    interval_s = 5.0

    def __init__(
        self,
        settings: Settings,
        options: CallSettings | None = None,
        store: ImageStore | None = None,
        *,
        batch: int = 16,
    ) -> None:
        self.settings, self.batch = settings, batch
        self.options = options or CallSettings(
            base_url=settings.public_url, private_hosts=settings.model_private_hosts
        )
        self.store = store

    def run_once(self, session: Session, now: datetime) -> int:
        if self.store is None:
            # The image URLs it sends are signed like the API's (the same server secret).
            secret = server_secret(session, "image-urls", configured=self.settings.secret_key)
            self.store = open_image_store(
                self.settings.image_store,
                images_dir=self.settings.images_dir,
                url_signer=UrlSigner(secret),
            )
        return call_due(session, self.store, now=now, options=self.options, limit=self.batch)


class BuiltinModels:
    """Builtin classifiers are refitted as their project's consensus grows, and predict every
    open task after each fit."""

    name = "models.builtin"
    interval_s = 30.0

    def __init__(self, settings: Settings, store: ImageStore | None = None) -> None:
        self.store = store or open_image_store(settings.image_store, images_dir=settings.images_dir)

    def run_once(self, session: Session, now: datetime) -> int:
        fitted = fit_due(session, self.store, now=now)
        return fitted + predict_due(session, self.store, now=now)
