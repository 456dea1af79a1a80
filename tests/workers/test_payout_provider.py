"""A payout is settled only through the provider recorded on it: a worker process without that
provider leaves it alone and says why in its log."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from payments import EmbeddedPayoutProvider
from payments.providers import PayoutOrder, PayoutResult
from tests.app import test_money
from tests.app.test_money import balance, reconcile
from tests.conftest import FakeClock
from workers.money import ReleaseHolds, SendPayouts


class RecordingHttp:
    """Stands in for the HTTP payout provider (same name), recording what it was asked to pay."""

    name = "http"

    def __init__(self) -> None:
        self.paid: list[str] = []

    def pay(self, order: PayoutOrder) -> PayoutResult:
        self.paid.append(order.payout_id)
        return PayoutResult("paid", provider_reference=f"tr_{order.payout_id}")


def test_a_worker_without_the_recorded_provider_leaves_the_payout_alone(
    client: TestClient, clock: FakeClock, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    worker = test_money.TestPayouts().earn(client, clock)
    clock.advance(86_400)
    reconcile(client, clock, [ReleaseHolds()])
    # serve has a payout URL: the payout is recorded as the http provider's.
    settings.payout_provider_url = "http://127.0.0.1:9/payouts"
    payout = client.post("/v1/payouts", headers=worker).json()

    # A worker started without the URL has only the embedded provider, which would mark it paid.
    with caplog.at_level(logging.WARNING, logger="tessera.workers.payouts"):
        embedded = SendPayouts(EmbeddedPayoutProvider())
        assert reconcile(client, clock, [embedded])["payouts.send"] == 0
        assert reconcile(client, clock, [embedded])["payouts.send"] == 0
    assert client.get(f"/v1/payouts/{payout['id']}", headers=worker).json()["status"] == "pending"
    assert balance(client, worker)["in_flight"] == "2"
    warnings = [r.getMessage() for r in caplog.records if r.name == "tessera.workers.payouts"]
    assert len(warnings) == 1, warnings  # said once, not on every pass
    assert "1 due payout(s) recorded for the 'http' payout provider left alone" in warnings[0]
    assert "TESSERA_PAYOUT_PROVIDER_URL" in warnings[0]

    # The worker that has the recorded provider settles it, through that provider.
    http = RecordingHttp()
    assert reconcile(client, clock, [SendPayouts(http)])["payouts.send"] == 1
    assert http.paid == [payout["id"]]
    body = client.get(f"/v1/payouts/{payout['id']}", headers=worker).json()
    assert body["status"] == "paid"
    assert balance(client, worker)["paid_out"] == "2"
