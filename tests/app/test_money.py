"""Money through HTTP: deposits, escrow at launch, verdicts that pay, bonuses, settlement, payouts."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.answers import service as answer_service
from app.core.config import Settings
from app.core.db import make_sessionmaker
from app.core.errors import ProblemError
from app.models import Account
from app.operator.money import verify_ledger
from payments.providers import PayoutResult
from tests.conftest import FakeClock
from tests.factories import deposit, make_operator, make_project, open_batch, png, signup, upload
from workers.money import SendPayouts
from workers.runner import default_reconcilers, run_pass

H = dict[str, str]


def reconcile(
    client: TestClient, clock: FakeClock, reconcilers: list[Any] | None = None
) -> dict[str, int]:
    return run_pass(client.app.state.sessionmaker, reconcilers or default_reconcilers(), clock())  # type: ignore[attr-defined]


def balance(client: TestClient, who: H) -> dict[str, str]:
    return dict(client.get("/v1/me", headers=who).json()["balance"])


def answer(client: TestClient, project_id: str, label: str = "cat") -> tuple[H, str]:
    worker = signup(client, "worker")
    lease = client.post(f"/v1/projects/{project_id}/assignments", headers=worker).json()
    r = client.post(
        f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": label}}, headers=worker
    )
    assert r.status_code == 200, r.text
    return worker, lease["id"]


class TestDeposits:
    def test_deposit_credits_available(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        body = deposit(client, requester, "12.5")
        assert body["balance"] == {"available": "12.5", "escrowed": "0"}
        assert balance(client, requester) == {"available": "12.5", "escrowed": "0"}

    def test_same_key_deposits_once(self, client: TestClient) -> None:
        requester = {**signup(client, "requester")}
        headers = {**requester, "Idempotency-Key": "dep-1"}
        first = client.post("/v1/deposits", json={"amount": "5"}, headers=headers)
        again = client.post("/v1/deposits", json={"amount": "5"}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert balance(client, requester)["available"] == "5"
        assert client.post("/v1/deposits", json={"amount": "6"}, headers=headers).status_code == 409

    @pytest.mark.parametrize("amount", ["0", "-3", "0.0000001", "abc", 5.5])
    def test_bad_amounts_are_422(self, client: TestClient, amount: object) -> None:
        requester = signup(client, "requester")
        assert (
            client.post("/v1/deposits", json={"amount": amount}, headers=requester).status_code
            == 422
        )
        assert balance(client, requester)["available"] == "0"

    def test_workers_cannot_deposit(self, client: TestClient) -> None:
        assert (
            client.post(
                "/v1/deposits", json={"amount": "1"}, headers=signup(client, "worker")
            ).status_code
            == 403
        )


class TestLaunchEscrow:
    def test_launch_escrows_the_maximum_cost_with_fee(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, reward="0.02", overlap={"min": 1, "max": 3})
        batch = open_batch(client, requester, project["id"], n_images=3, fund="1")
        # 3 tasks x 3 answers x (0.02 reward + 0.002 fee at the default 10%)
        assert batch["money"] == {"escrowed": "0.198", "spent": "0", "refunded": "0"}
        assert balance(client, requester) == {"available": "0.802", "escrowed": "0.198"}

    def test_short_funds_are_402_and_change_nothing(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, reward="0.02", overlap={"min": 1, "max": 3})
        batch = upload(client, requester, project["id"], {"a.png": png()})
        deposit(client, requester, "0.05")
        r = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
        assert r.status_code == 402
        assert r.headers["content-type"].startswith("application/problem+json")
        # In the user's units and words: dollars, "your available balance", no ledger names.
        assert r.json()["type"].endswith("/insufficient-funds")
        assert r.json()["detail"] == "Your available balance is $0.05; $0.066 is needed."
        assert (
            client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["status"] == "draft"
        )
        assert balance(client, requester) == {"available": "0.05", "escrowed": "0"}
        deposit(client, requester, "0.02")
        assert (
            client.post(f"/v1/batches/{batch['id']}/launch", headers=requester).status_code == 200
        )

    def test_fee_is_fixed_at_launch(self, client: TestClient, settings: Settings) -> None:
        op = make_operator(settings)
        requester = signup(client, "requester")
        project = make_project(client, requester, reward="1", overlap={"max": 1})
        first = open_batch(client, requester, project["id"], n_images=1)
        r = client.patch("/v1/admin/settings", json={"platform_fee": "0.25"}, headers=op)
        assert r.json()["platform_fee"] == "0.25"
        second = open_batch(client, requester, project["id"], n_images=1, fund=None)
        assert first["money"]["escrowed"] == "1.1"
        assert second["money"]["escrowed"] == "1.25"


class TestVerdicts:
    def test_accept_pays_reject_does_not(self, client: TestClient, settings: Settings) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, reward="0.02", overlap={"min": 1, "max": 2})
        batch = open_batch(client, requester, project["id"], n_images=1)
        good, good_asg = answer(client, project["id"], "cat")
        bad, bad_asg = answer(client, project["id"], "dog")
        assert (
            client.post(f"/v1/assignments/{good_asg}/accept", headers=requester).json()["status"]
            == "accepted"
        )
        r = client.post(
            f"/v1/assignments/{bad_asg}/reject", json={"reason": "it is a cat"}, headers=requester
        )
        assert r.json()["status"] == "rejected"
        assert balance(client, good)["pending"] == "0.02"
        assert balance(client, bad)["pending"] == "0"
        history = client.get("/v1/me/assignments", headers=bad).json()["items"][0]
        assert (history["status"], history["reason"]) == ("rejected", "it is a cat")
        money = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["money"]
        assert money["spent"] == "0.022"
        assert (
            client.get("/v1/admin/ledger/verify", headers=make_operator(settings)).json()["ok"]
            is True
        )

    def test_verdicts_are_final(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        _, asg = answer(client, project["id"])
        assert client.post(f"/v1/assignments/{asg}/accept", headers=requester).status_code == 200
        assert client.post(f"/v1/assignments/{asg}/accept", headers=requester).status_code == 409
        assert (
            client.post(
                f"/v1/assignments/{asg}/reject", json={"reason": "x"}, headers=requester
            ).status_code
            == 409
        )

    def test_other_requesters_cannot_judge(self, client: TestClient) -> None:
        requester, stranger = signup(client, "requester"), signup(client, "requester")
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        _, asg = answer(client, project["id"])
        assert client.post(f"/v1/assignments/{asg}/accept", headers=stranger).status_code == 404

    def test_bonus_comes_from_available_with_fee_and_replays(self, client: TestClient) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1, fund="10")
        worker, asg = answer(client, project["id"])
        before = balance(client, requester)["available"]
        headers = {**requester, "Idempotency-Key": "bonus-1"}
        body = {"amount": "1", "reason": "great boxes"}
        first = client.post(f"/v1/assignments/{asg}/bonus", json=body, headers=headers)
        again = client.post(f"/v1/assignments/{asg}/bonus", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        assert balance(client, worker)["pending"] == "1"
        assert float(before) - float(balance(client, requester)["available"]) == pytest.approx(1.1)
        too_much = client.post(
            f"/v1/assignments/{asg}/bonus",
            json={"amount": "1000", "reason": "x"},
            headers=requester,
        )
        assert too_much.status_code == 402


class TestSettlement:
    def test_completed_batch_returns_unspent_escrow(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester = signup(client, "requester")
        project = make_project(client, requester, reward="0.1", overlap={"min": 1, "max": 2})
        batch = open_batch(client, requester, project["id"], n_images=1, fund="1")
        _, a1 = answer(client, project["id"])
        _, a2 = answer(client, project["id"])
        client.post(f"/v1/assignments/{a1}/accept", headers=requester)
        client.post(f"/v1/assignments/{a2}/reject", json={"reason": "wrong"}, headers=requester)
        reconcile(client, clock)
        assert (
            client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["status"] == "open"
        )  # appealable
        clock.advance(3 * 86_400)
        reconcile(client, clock)
        body = client.get(f"/v1/batches/{batch['id']}", headers=requester).json()
        assert body["status"] == "completed"
        assert body["money"] == {"escrowed": "0.22", "spent": "0.11", "refunded": "0.11"}
        assert body["progress"] == {
            "answers_used": 2,
            "answers_max": 2,
            "projected_answers": 2,
            "projected_cost": "0.22",
            "eta": None,
        }
        assert balance(client, requester) == {"available": "0.89", "escrowed": "0"}

    def test_cancel_refunds_once_open_leases_end(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(
            client, requester, reward="0.1", overlap={"max": 1}, assignment_duration_s=60
        )
        batch = open_batch(client, requester, project["id"], n_images=2, fund="1")
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        client.post(f"/v1/batches/{batch['id']}/cancel", headers=requester)
        reconcile(client, clock)
        assert balance(client, requester)["escrowed"] == "0.22"  # a lease is still out
        client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
        client.post(f"/v1/assignments/{lease['id']}/accept", headers=requester)
        reconcile(client, clock)
        assert balance(client, requester) == {"available": "0.89", "escrowed": "0"}
        assert (
            client.get(f"/v1/batches/{batch['id']}", headers=requester).json()["status"]
            == "cancelled"
        )


class TestPayouts:
    def earn(self, client: TestClient, clock: FakeClock, reward: str = "2") -> H:
        requester = signup(client, "requester")
        project = make_project(client, requester, reward=reward, overlap={"max": 1})
        open_batch(client, requester, project["id"], n_images=1, fund="10")
        worker, asg = answer(client, project["id"])
        client.post(f"/v1/assignments/{asg}/accept", headers=requester)
        return worker

    def test_hold_then_withdraw_and_settle(self, client: TestClient, clock: FakeClock) -> None:
        worker = self.earn(client, clock)
        assert balance(client, worker)["pending"] == "2"
        assert (
            client.post("/v1/payouts", json={}, headers=worker).status_code == 422
        )  # nothing available yet
        clock.advance(86_400)
        reconcile(client, clock)
        assert balance(client, worker)["available"] == "2"
        r = client.post("/v1/payouts", json={"amount": "1.5"}, headers=worker)
        assert r.status_code == 201
        payout = r.json()
        assert payout["status"] == "pending"
        reconcile(client, clock)
        assert client.get(f"/v1/payouts/{payout['id']}", headers=worker).json()["status"] == "paid"
        assert balance(client, worker) == {
            "pending": "0",
            "available": "0.5",
            "in_flight": "0",
            "paid_out": "1.5",
        }
        assert (
            client.post("/v1/payouts", json={"amount": "0.5"}, headers=worker).status_code == 422
        )  # below $1
        assert (
            client.get(f"/v1/payouts/{payout['id']}", headers=signup(client, "worker")).status_code
            == 404
        )

    def test_failed_payout_returns_the_money(self, client: TestClient, clock: FakeClock) -> None:
        class Refusing:
            name = "embedded"  # the provider the payout is recorded with (no payout URL)

            def pay(self, order: object) -> PayoutResult:
                return PayoutResult("failed", reason="account closed")

        worker = self.earn(client, clock)
        clock.advance(86_400)
        reconcile(client, clock)
        payout = client.post("/v1/payouts", headers=worker).json()
        reconcile(client, clock, [SendPayouts(Refusing())])
        body = client.get(f"/v1/payouts/{payout['id']}", headers=worker).json()
        assert (body["status"], body["failure_reason"]) == ("failed", "account closed")
        assert balance(client, worker)["available"] == "2"

    def test_ledger_lists_entries_newest_first(self, client: TestClient, clock: FakeClock) -> None:
        worker = self.earn(client, clock)
        entries = client.get("/v1/me/ledger", headers=worker).json()["items"]
        assert [(e["kind"], e["amount"]) for e in entries] == [("reward", "2")]


def test_verify_ledger_cli(client: TestClient, settings: Settings) -> None:
    requester = signup(client, "requester")
    deposit(client, requester, "3")
    env = {"TESSERA_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "verify-ledger"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ok: True" in out.stdout


@pytest.mark.postgres_only
def test_accept_and_reject_racing_give_one_verdict_paid_at_most_once(
    client: TestClient, engine: Engine, clock: FakeClock
) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"max": 1})
    open_batch(client, requester, project["id"], n_images=20, fund="10")
    asgs = [answer(client, project["id"])[1] for _ in range(20)]
    make_session = make_sessionmaker(engine)
    with make_session() as session:
        req = session.get_one(Account, requester["X-Test-Account-Id"])
        session.expunge(req)

    def verdict(args: tuple[str, str]) -> str:
        kind, asg = args
        with make_session() as session:
            try:
                if kind == "accept":
                    answer_service.accept(session, req, asg, now=clock())
                else:
                    answer_service.reject(session, req, asg, "no", now=clock())
                return kind
            except ProblemError:
                return "lost"

    jobs = [(kind, a) for a in asgs for kind in ("accept", "reject", "accept")]
    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(verdict, jobs))
    assert outcomes.count("lost") == 40  # one verdict per answer; the other two lost the race
    with make_session() as session:
        report = verify_ledger(session)
    assert report.ok, report.violations
