"""Shared helpers for the payments tests: a fixed clock and a scriptable payout provider."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

import payments
from app.core.db import make_engine
from payments.errors import ProviderUnavailable
from payments.models import metadata
from payments.providers import PayoutOrder, PayoutResult

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
REQ, WORKER = "acc_requester", "acc_worker"
DOLLAR = 1_000_000


class FakePayoutProvider:
    """Honours idempotency keys like a real provider: the first outcome per key sticks.

    ``script`` is consumed one step per call: ``"ok"``, ``"fail"``, ``"timeout_before"`` (raises,
    nothing happened) or ``"timeout_after"`` (pays, then raises as if the answer was lost).
    """

    # Payouts here are requested with the default provider name; a settler only sends a
    # payout through the provider recorded on it.
    name = "embedded"

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.outcomes: dict[str, PayoutResult] = {}
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def paid(self) -> dict[str, int]:
        return {k: 1 for k, r in self.outcomes.items() if r.status == "paid"}

    def pay(self, order: PayoutOrder) -> PayoutResult:
        with self._lock:
            self.calls += 1
            if order.idempotency_key in self.outcomes:
                return self.outcomes[order.idempotency_key]
            step = self.script.pop(0) if self.script else "ok"
            if step == "timeout_before":
                raise ProviderUnavailable("timed out")
            status: Literal["paid", "failed"] = "failed" if step == "fail" else "paid"
            result = PayoutResult(
                status,
                provider_reference=f"fake-{order.payout_id}",
                reason="card closed" if status == "failed" else None,
            )
            self.outcomes[order.idempotency_key] = result
            if step == "timeout_after":
                raise ProviderUnavailable("answer lost")
            return result


def clear_payments(session: Session) -> None:
    """Empty payments' tables (the state machine starts each example from nothing)."""
    session.rollback()
    for table in reversed(metadata.sorted_tables):
        session.execute(delete(table))
    session.commit()


def fund(session: Session, requester: str, amount: int, reference: str | None = None) -> None:
    payments.deposit(
        session,
        payments.EmbeddedPaymentProvider(),
        requester_ref=requester,
        amount=amount,
        reference=reference or f"dep:{requester}:{amount}",
        now=T0,
    )
    session.commit()


def assert_sound(session: Session, accepted: set[str] | None = None) -> None:
    report = payments.verify(session, accepted=accepted)
    assert report.violations == []
    assert report.ok
    assert report.total == 0


@pytest.fixture
def wide_engine(database_url: str) -> Iterator[Engine]:
    """Up to 40 connections for real parallelism (tables are truncated by the settings fixture)."""
    wide = make_engine(database_url, pool_size=20)
    yield wide
    wide.dispose()


@pytest.fixture
def db(session: Session) -> Iterator[Session]:
    """The conftest session, checked to leave a sound ledger behind."""
    yield session
    session.rollback()
    assert_sound(session)
