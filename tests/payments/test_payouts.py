from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.orm import Session

import payments
from payments import accounts as acct
from payments.errors import (
    BelowMinimumPayout,
    IdempotencyConflict,
    InsufficientFunds,
    ProviderUnavailable,
)
from payments.ledger import post
from payments.payouts import CLAIM_SECONDS, _claim, payout_key
from payments.providers import HttpPayoutProvider, PayoutOrder
from tests.payments.conftest import DOLLAR, T0, WORKER, FakePayoutProvider, assert_sound


def _earn(session: Session, amount: int, worker: str = WORKER) -> None:
    """Give a worker available earnings directly (the pricing tests cover how they are earned)."""
    post(
        session,
        "test_earn",
        f"{worker}:{amount}",
        [(acct.world(), -amount), (acct.worker_available(worker), amount)],
        now=T0,
    )
    session.commit()


def _available(session: Session) -> int:
    return payments.balance(session, acct.worker_available(WORKER))


class TestRequest:
    def test_moves_available_to_in_flight(self, db: Session) -> None:
        _earn(db, 5 * DOLLAR)
        payout = payments.request_payout(db, worker_ref=WORKER, amount=2 * DOLLAR, now=T0)
        db.commit()
        assert (payout.status, payout.amount) == ("requested", 2 * DOLLAR)
        assert payments.balances(db, WORKER) == {
            "worker_available": 3 * DOLLAR,
            "worker_in_flight": 2 * DOLLAR,
        }

    def test_all_when_no_amount(self, db: Session) -> None:
        _earn(db, 5 * DOLLAR)
        assert payments.request_payout(db, worker_ref=WORKER, now=T0).amount == 5 * DOLLAR
        db.commit()

    def test_below_minimum(self, db: Session) -> None:
        _earn(db, 5 * DOLLAR)
        with pytest.raises(BelowMinimumPayout):
            payments.request_payout(db, worker_ref=WORKER, amount=DOLLAR - 1, now=T0)

    def test_more_than_available(self, db: Session) -> None:
        _earn(db, 5 * DOLLAR)
        with pytest.raises(InsufficientFunds):
            payments.request_payout(db, worker_ref=WORKER, amount=6 * DOLLAR, now=T0)

    def test_one_key_one_payout(self, db: Session) -> None:
        _earn(db, 5 * DOLLAR)
        first = payments.request_payout(
            db, worker_ref=WORKER, amount=DOLLAR, idempotency_key="k", now=T0
        )
        db.commit()
        again = payments.request_payout(
            db, worker_ref=WORKER, amount=DOLLAR, idempotency_key="k", now=T0
        )
        assert again.id == first.id
        assert _available(db) == 4 * DOLLAR
        with pytest.raises(IdempotencyConflict):
            payments.request_payout(
                db, worker_ref=WORKER, amount=2 * DOLLAR, idempotency_key="k", now=T0
            )
        db.rollback()


class TestSettle:
    def _requested(self, session: Session, amount: int = DOLLAR) -> str:
        _earn(session, amount)
        payout = payments.request_payout(session, worker_ref=WORKER, amount=amount, now=T0)
        session.commit()
        return payout.id

    def test_embedded_pays(self, db: Session) -> None:
        pid = self._requested(db)
        assert payments.settle_due_payouts(db, payments.EmbeddedPayoutProvider(), now=T0) == 1
        payout = payments.get_payout(db, pid, worker_ref=WORKER)
        assert payout is not None
        assert payout.status == "paid"
        assert payments.paid_out(db, WORKER) == DOLLAR
        assert payments.balance(db, acct.world()) == 0
        assert payments.get_payout(db, pid, worker_ref="acc_other") is None

    def test_failure_returns_the_money(self, db: Session) -> None:
        pid = self._requested(db)
        assert payments.settle_payout(db, FakePayoutProvider("fail"), pid, now=T0) == "failed"
        assert _available(db) == DOLLAR
        assert payments.paid_out(db, WORKER) == 0

    def test_timeout_retries_with_the_same_key_and_pays_once(self, db: Session) -> None:
        pid = self._requested(db)
        provider = FakePayoutProvider("timeout_after")
        assert payments.settle_payout(db, provider, pid, now=T0) == "pending"
        assert payments.settle_payout(db, provider, pid, now=T0) is None  # backing off
        later = T0 + timedelta(hours=2)
        assert payments.settle_payout(db, provider, pid, now=later) == "paid"
        assert list(provider.paid) == [payout_key(pid)]
        assert provider.calls == 2
        assert payments.paid_out(db, WORKER) == DOLLAR

    def test_resumes_after_a_settler_died_mid_call(self, db: Session) -> None:
        pid = self._requested(db)
        provider = FakePayoutProvider()
        claim = _claim(db, pid, provider.name, T0)  # claimed and committed; then the process died
        assert claim is not None
        provider.pay(
            PayoutOrder(payout_key(pid), pid, WORKER, DOLLAR)
        )  # ... after the provider paid
        assert payments.settle_payout(db, provider, pid, now=T0) is None  # lease still held
        after_lease = T0 + timedelta(seconds=CLAIM_SECONDS)
        assert payments.settle_payout(db, provider, pid, now=after_lease) == "paid"
        assert len(provider.paid) == 1
        assert payments.paid_out(db, WORKER) == DOLLAR

    def test_settled_payout_is_not_claimed_again(self, db: Session) -> None:
        pid = self._requested(db)
        provider = FakePayoutProvider()
        payments.settle_payout(db, provider, pid, now=T0)
        assert payments.settle_payout(db, provider, pid, now=T0 + timedelta(days=1)) is None
        assert provider.calls == 1
        assert_sound(db)


def _http(handler: httpx.MockTransport) -> HttpPayoutProvider:
    return HttpPayoutProvider(
        "https://payouts.test/v1/transfers", client=httpx.Client(transport=handler)
    )


ORDER = PayoutOrder("tessera:payout:pay_1", "pay_1", WORKER, 1_500_000)


class TestHttpProvider:
    def test_posts_with_an_idempotency_key(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json={"status": "paid", "id": "tr_9"})

        result = _http(httpx.MockTransport(handler)).pay(ORDER)
        assert (result.status, result.provider_reference) == ("paid", "tr_9")
        assert seen[0].headers["Idempotency-Key"] == "tessera:payout:pay_1"
        assert json.loads(seen[0].content) == {
            "payout_id": "pay_1",
            "destination": WORKER,
            "amount": "1.5",
            "currency": "USD",
        }

    @pytest.mark.parametrize(
        ("code", "body", "status"),
        [
            (202, {}, "pending"),
            (200, {"status": "failed", "reason": "closed"}, "failed"),
            (400, {"reason": "bad iban"}, "failed"),
        ],
    )
    def test_maps_answers(self, code: int, body: dict[str, str], status: str) -> None:
        result = _http(httpx.MockTransport(lambda _r: httpx.Response(code, json=body))).pay(ORDER)
        assert result.status == status

    @pytest.mark.parametrize("code", [500, 503, 409, 429])
    def test_unsure_answers_are_unavailable(self, code: int) -> None:
        with pytest.raises(ProviderUnavailable):
            _http(httpx.MockTransport(lambda _r: httpx.Response(code))).pay(ORDER)

    def test_timeout_is_unavailable(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("slow", request=request)

        with pytest.raises(ProviderUnavailable):
            _http(httpx.MockTransport(handler)).pay(ORDER)

    def test_settles_through_http(self, db: Session) -> None:
        _earn(db, DOLLAR)
        payout = payments.request_payout(db, worker_ref=WORKER, now=T0, provider="http")
        db.commit()
        provider = _http(
            httpx.MockTransport(
                lambda _r: httpx.Response(200, json={"status": "paid", "id": "tr_1"})
            )
        )
        assert payments.settle_payout(db, provider, payout.id, now=T0) == "paid"
        db.refresh(payout)
        assert payout.provider_reference == "tr_1"
        assert payout.provider_response == {"status": "paid", "id": "tr_1"}
