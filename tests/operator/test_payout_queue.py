"""GET /v1/admin/payouts: the operator's payout queue, newest first, filtered by status, with
counts per status, paged by cursor; operators only."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core.config import Settings
from payments.providers import PayoutResult
from tests.app.test_money import answer, reconcile
from tests.conftest import FakeClock
from tests.factories import account_id, make_operator, make_project, open_batch, signup
from workers.money import ReleaseHolds, SendPayouts

H = dict[str, str]


class Refusing:
    name = "embedded"

    def pay(self, order: object) -> PayoutResult:
        return PayoutResult("failed", reason="account closed")


def _earning_workers(client: TestClient, clock: FakeClock, n: int) -> list[H]:
    requester = signup(client, "requester")
    project = make_project(client, requester, reward="2", overlap={"min": 1, "max": 1})
    open_batch(client, requester, project["id"], n_images=n, fund="50")
    workers = []
    for _ in range(n):
        worker, asg = answer(client, project["id"])
        assert client.post(f"/v1/assignments/{asg}/accept", headers=requester).status_code == 200
        workers.append(worker)
    clock.advance(86_400)
    reconcile(client, clock, [ReleaseHolds()])
    return workers


def test_the_queue_lists_filters_counts_and_pages(
    client: TestClient, settings: Settings, clock: FakeClock
) -> None:
    op = make_operator(settings)
    a, b, c = _earning_workers(client, clock, 3)
    failed = client.post("/v1/payouts", headers=a).json()
    reconcile(client, clock, [SendPayouts(Refusing())])
    waiting = [client.post("/v1/payouts", json={"amount": "1"}, headers=w).json() for w in (b, c)]

    body = client.get("/v1/admin/payouts", headers=op).json()
    assert body["counts"] == {"requested": 2, "pending": 0, "paid": 0, "failed": 1}
    assert [p["id"] for p in body["items"]] == [waiting[1]["id"], waiting[0]["id"], failed["id"]]
    row = body["items"][2]
    assert (row["status"], row["failure_reason"], row["amount"]) == (
        "failed",
        "account closed",
        "2",
    )
    assert (row["worker_id"], row["next_attempt_at"]) == (account_id(a), None)
    assert row["worker_name"]
    assert body["items"][0]["next_attempt_at"] is not None

    only = client.get("/v1/admin/payouts?status=failed", headers=op).json()
    assert [p["id"] for p in only["items"]] == [failed["id"]]
    assert only["counts"] == body["counts"]
    open_ = client.get("/v1/admin/payouts?status=open&limit=1", headers=op).json()
    assert [p["id"] for p in open_["items"]] == [waiting[1]["id"]]
    rest = client.get(
        f"/v1/admin/payouts?status=open&limit=1&cursor={open_['next_cursor']}", headers=op
    ).json()
    assert [p["id"] for p in rest["items"]] == [waiting[0]["id"]]
    assert rest["next_cursor"] is None

    assert client.get("/v1/admin/payouts?status=lost", headers=op).status_code == 422
    for who in (a, signup(client, "requester")):
        assert client.get("/v1/admin/payouts", headers=who).status_code in (403, 404)
