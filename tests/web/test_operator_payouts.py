"""The operator's payout queue and ledger check in Chromium: waiting and failed payouts from
GET /v1/admin/payouts (filter, counts, the failure's reason), and a tampered ledger's violations
listed one by one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from app.accounts import service as account_service
from app.core.clock import utc_now
from app.models import Role
from payments.models import LedgerAccount
from payments.providers import PayoutResult
from tests.web.conftest import PASSWORD, LiveServer, screenshot, seed_project
from tests.web.test_requester import new_worker, sign_in
from workers.money import ReleaseHolds, SendPayouts
from workers.runner import run_pass


class Refusing:
    name = "embedded"

    def pay(self, order: object) -> PayoutResult:
        return PayoutResult("failed", reason="account closed at the bank")


def test_payout_queue_and_ledger_violations(page: Any, live_server: LiveServer) -> None:
    make = live_server.app.state.sessionmaker
    with make() as session:
        _, op_key = account_service.create_account(
            session, role=Role.operator, name="Olga", now=utc_now(),
            email="olga@example.com", password=PASSWORD,
        )  # fmt: skip
    with live_server.api(op_key) as api:
        r = api.patch("/v1/admin/settings", json={"payout_hold_s": 0, "min_payout": "0.01"})
        assert r.status_code == 200, r.text
    seeded = seed_project(
        live_server, {"type": "classification", "labels": ["cat", "dog"]}, n_images=2,
        reward="0.50",
    )  # fmt: skip
    workers = [new_worker(live_server, n) for n in ("Ann", "Bob")]
    for _, key in workers:
        with live_server.api(key) as api:
            lease = api.post(f"/v1/projects/{seeded.project['id']}/assignments").json()
            api.post(f"/v1/assignments/{lease['id']}/submit", json={"answer": {"label": "cat"}})
        with live_server.api(seeded.requester_key) as api:
            assert api.post(f"/v1/assignments/{lease['id']}/accept").status_code == 200
    run_pass(make, [ReleaseHolds()])
    with live_server.api(workers[0][1]) as api:
        failed = api.post("/v1/payouts", json={}).json()
    run_pass(make, [SendPayouts(Refusing())])
    with live_server.api(workers[1][1]) as api:
        waiting = api.post("/v1/payouts", json={"amount": "0.25"}).json()

    sign_in(page, "olga@example.com")
    page.click("nav.top a:has-text('Payouts')")
    page.wait_for_selector(f"[data-table=payouts] tr[data-payout='{waiting['id']}']")
    assert page.locator("[data-table=payouts] tr[data-payout]").count() == 1  # open only
    assert page.locator("[data-count=requested]").inner_text() == "1"
    assert page.locator("[data-count=failed]").inner_text() == "1"
    row = page.locator(f"tr[data-payout='{waiting['id']}']")
    assert "Bob" in row.inner_text()
    assert "$0.25" in row.inner_text()
    page.select_option("select[name=status]", "failed")
    failed_row = page.locator(f"tr[data-payout='{failed['id']}'][data-status=failed]")
    failed_row.wait_for()
    assert "account closed at the bank" in failed_row.inner_text()
    assert "Ann" in failed_row.inner_text()
    page.wait_for_selector("[data-verify] [data-ok=true]")
    screenshot(page, "operator-payouts")

    # A tampered balance cache: the check lists each broken invariant.
    with make() as session, session.begin():
        session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.kind == "requester_available")
            .values(balance=7)
        )
    page.click("[data-verify] [data-action=verify]")
    page.wait_for_selector("[data-verify] [data-ok=false]")
    violations = page.locator("[data-verify] li[data-violation]").all_inner_texts()
    assert any("caches 7" in v for v in violations), violations
    assert any("sum to" in v for v in violations), violations
