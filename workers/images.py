from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.batches.fetching import Fetcher, fetch_due
from app.images import ImageLimits, ImageStore, fetch_image


class FetchImages:
    """Images named by URL are downloaded, checked, stored and made tasks of their batch."""

    name = "images.fetch"
    interval_s = 2.0

    def __init__(
        self, store: ImageStore, limits: ImageLimits, fetch: Fetcher = fetch_image
    ) -> None:
        self.store, self.limits, self.fetch = store, limits, fetch

    def run_once(self, session: Session, now: datetime) -> int:
        return fetch_due(session, self.store, self.limits, self.fetch, now=now)
