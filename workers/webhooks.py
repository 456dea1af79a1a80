"""The webhook deliverer: every receiver gets its own queue, so one that hangs slows only itself.

``run_once`` claims due deliveries (``app.webhooks.delivery``) and hands each webhook's share to a
thread of a small pool, which calls the receiver and goes on with that webhook's next due
deliveries until none is due; a webhook whose thread is still busy is not claimed for again.
``run_once`` itself returns at once (``background=True``, the default), so the reconciler loop
and every other reconciler never wait on a receiver. Tests pass ``background=False`` and a
fake clock: the pass then waits for its calls, and backoff is driven by the clock, not by sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.core.clock import utc_now
from app.core.db import make_sessionmaker
from app.webhooks import delivery

log = logging.getLogger("tessera.workers.webhooks")


class DeliverWebhooks:
    name = "webhooks.deliver"
    interval_s = 1.0

    def __init__(
        self,
        *,
        guard: delivery.Guard = delivery.public_guard,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = utc_now,
        background: bool = True,
        max_parallel: int = 4,
        batch: int = 20,
    ) -> None:
        self.guard, self.clock, self.background, self.batch = guard, clock, background, batch
        # trust_env=False: an HTTP(S)_PROXY from the environment must not re-route pinned calls.
        self.client = client or httpx.Client(
            timeout=delivery.TIMEOUT, trust_env=False, follow_redirects=False
        )
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="tessera-webhooks")
        self._busy: dict[str, Future[None]] = {}
        self._lock = threading.Lock()  # this process's bookkeeping only; claims are the DB's

    def run_once(self, session: Session, now: datetime) -> int:
        with self._lock:
            self._busy = {w: f for w, f in self._busy.items() if not f.done()}
            busy = frozenset(self._busy)
        attempts = delivery.claim_due(session, now=now, limit=self.batch, skip_webhooks=busy)
        by_webhook: dict[str, list[delivery.Attempt]] = defaultdict(list)
        for attempt in attempts:
            by_webhook[attempt.webhook_id].append(attempt)
        make_session = make_sessionmaker(session.get_bind())  # type: ignore[arg-type]
        futures = []
        for webhook_id, claimed in by_webhook.items():
            future = self._pool.submit(self._drain, make_session, webhook_id, claimed)
            with self._lock:
                self._busy[webhook_id] = future
            futures.append(future)
        if not self.background:
            wait(futures)
        return len(attempts)

    def _drain(
        self,
        make_session: sessionmaker[Session],
        webhook_id: str,
        claimed: list[delivery.Attempt],
    ) -> None:
        try:
            while claimed:
                with make_session() as session:
                    for attempt in claimed:
                        now = self.clock()
                        outcome = delivery.send(self.client, attempt, guard=self.guard, now=now)
                        delivery.record(session, attempt, outcome, now=now)
                    claimed = delivery.claim_due(
                        session, now=self.clock(), limit=self.batch, webhook_id=webhook_id
                    )
        except Exception:
            # The claimed rows stay pending and are claimed again once their lease passes.
            log.exception("webhook %s: delivery failed", webhook_id)
