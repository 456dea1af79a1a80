"""GET /v1/admin/stats over a window (throughput, money, quality, per bucket) and the settings
audit trail (who changed what, when; GET /v1/admin/settings/history)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.conftest import FakeClock
from tests.factories import make_operator, make_project, open_batch, signup


def _answer(client: TestClient, project_id: str, label: str) -> tuple[dict[str, str], str]:
    worker = signup(client, "worker")
    lease = client.post(f"/v1/projects/{project_id}/assignments", headers=worker).json()
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": label}}, headers=worker
    )
    assert r.status_code == 200, r.text
    return worker, lease["id"]


def _stats(client: TestClient, op: dict[str, str], **query: Any) -> dict[str, Any]:
    r = client.get("/v1/admin/stats", params=query, headers=op)
    assert r.status_code == 200, r.text
    return dict(r.json())


class TestStats:
    def test_throughput_money_and_quality_in_the_window(
        self, client: TestClient, settings: Settings, clock: FakeClock
    ) -> None:
        op = make_operator(settings)
        requester = signup(client, "requester")
        project = make_project(client, requester, reward="0.10", overlap={"min": 2, "max": 2})
        open_batch(client, requester, project["id"], n_images=2, fund="10")
        clock.advance(600)
        _, first = _answer(client, project["id"], "cat")
        _, second = _answer(client, project["id"], "dog")
        assert client.post(f"/v1/assignments/{first}/accept", headers=requester).status_code == 200
        r = client.post(
            f"/v1/assignments/{second}/reject", json={"reason": "a cat"}, headers=requester
        )
        assert r.status_code == 200, r.text
        clock.advance(60)
        body = _stats(client, op, window_s=3600, bucket_s=300)
        totals = body["totals"]
        assert totals["leases"] == 2
        assert totals["answers"] == 2
        assert totals["answers_per_minute"] == round(2 / 60, 4)
        assert totals["decided"] == 2
        assert totals["rejected"] == 1
        assert totals["rejection_rate"] == 0.5
        assert totals["deposits"] == "10"
        # One accepted answer: 0.10 reward + 10% fee out of escrow; the fee is the platform's.
        assert Decimal(totals["spend"]) == Decimal("0.11")
        assert Decimal(totals["fees"]) == Decimal("0.01")
        assert totals["payouts_paid"] == "0"
        assert totals["completed_tasks"] == 1
        assert 0 <= totals["average_confidence"] <= 1
        series = body["series"]
        assert len(series) == 12
        assert body["window"]["bucket_s"] == 300
        assert sum(b["answers"] for b in series) == 2
        # The window ends 60 s after the answers: they fall 3540 s into it, in the last of
        # the twelve five-minute buckets.
        busy = [i for i, b in enumerate(series) if b["answers"]]
        assert busy == [11]
        assert series[busy[0]]["answers_per_minute"] == round(2 / 5, 4)
        assert sum(Decimal(b["spend"]) for b in series) == Decimal("0.11")
        # The counts of before are still there.
        assert body["accounts"]["worker"] == 2
        assert body["assignments"]["accepted"] == 1

    def test_a_window_before_anything_happened_is_empty(
        self, client: TestClient, settings: Settings, clock: FakeClock
    ) -> None:
        op = make_operator(settings)
        requester = signup(client, "requester")
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        _answer(client, project["id"], "cat")
        until = (clock.now.replace(year=2025)).isoformat()
        body = _stats(client, op, window_s=600, until=until)
        assert body["totals"]["answers"] == 0
        assert body["totals"]["spend"] == "0"
        assert body["totals"]["rejection_rate"] is None
        assert body["totals"]["average_confidence"] is None
        assert len(body["series"]) == body["window"]["window_s"] // body["window"]["bucket_s"]

    def test_bucket_count_is_capped_and_bad_windows_refused(
        self, client: TestClient, settings: Settings
    ) -> None:
        op = make_operator(settings)
        body = _stats(client, op, window_s=31 * 86_400, bucket_s=60)
        assert len(body["series"]) <= 500
        for query in ({"window_s": 10}, {"window_s": 40 * 86_400}, {"bucket_s": 0}):
            r = client.get("/v1/admin/stats", params=query, headers=op)
            assert r.status_code == 422, query
            assert r.headers["content-type"].startswith("application/problem+json")

    def test_only_operators(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        assert client.get("/v1/admin/stats", headers=requester).status_code in (403, 404)
        assert client.get("/v1/admin/settings/history", headers=requester).status_code in (403, 404)


class TestAuditTrail:
    def test_each_change_is_recorded_with_who_and_old_and_new(
        self, client: TestClient, settings: Settings, clock: FakeClock
    ) -> None:
        op = make_operator(settings, name="Olga")
        r = client.patch("/v1/admin/settings", json={"platform_fee": "0.2"}, headers=op)
        assert r.status_code == 200, r.text
        clock.advance(10)
        r = client.patch(
            "/v1/admin/settings",
            json={"platform_fee": "0.2", "min_payout": "5", "benefit_of_doubt_below": 0.5},
            headers=op,
        )
        assert r.status_code == 200, r.text
        items = client.get("/v1/admin/settings/history", headers=op).json()["items"]
        changes = [(i["setting"], i["old_value"], i["new_value"]) for i in items]
        # Newest first; the fee set again to the same value is no change.
        assert changes == [
            ("min_payout", "1", "5"),
            ("benefit_of_doubt_below", "0.6", "0.5"),
            ("platform_fee", "0.1", "0.2"),
        ] or changes == [
            ("benefit_of_doubt_below", "0.6", "0.5"),
            ("min_payout", "1", "5"),
            ("platform_fee", "0.1", "0.2"),
        ]
        assert {i["actor_name"] for i in items} == {"Olga"}
        assert items[-1]["changed_at"] < items[0]["changed_at"]

    def test_a_refused_change_records_nothing(self, client: TestClient, settings: Settings) -> None:
        op = make_operator(settings)
        r = client.patch("/v1/admin/settings", json={"platform_fee": "1.5"}, headers=op)
        assert r.status_code == 422
        assert client.get("/v1/admin/settings/history", headers=op).json()["items"] == []

    def test_pages(self, client: TestClient, settings: Settings) -> None:
        op = make_operator(settings)
        for hold in (10, 20, 30):
            client.patch("/v1/admin/settings", json={"payout_hold_s": hold}, headers=op)
        first = client.get("/v1/admin/settings/history?limit=2", headers=op).json()
        assert [i["new_value"] for i in first["items"]] == ["30", "20"]
        rest = client.get(
            f"/v1/admin/settings/history?limit=2&cursor={first['next_cursor']}", headers=op
        ).json()
        assert [i["new_value"] for i in rest["items"]] == ["10"]
        assert rest["next_cursor"] is None
