"""Crash test: ``tessera worker`` killed with SIGKILL in the middle of payout settlement.

The real worker runs as a subprocess against a fake payout provider: a stdlib HTTP server on
127.0.0.1 that keeps Stripe's idempotency rule (a repeated ``Idempotency-Key`` gets the first
outcome back and moves no money again) and records what it "paid". It is killed while the
provider holds its first request (paid on the provider's side, no answer yet), then right after
the provider answers another one; a third run meets a provider that pays and then answers 503.
Every payout must end paid exactly once on both sides, and the ledger must verify.

About the claim lease (payments/payouts.py, CLAIM_SECONDS = 120): a payout claimed by a killed
worker is not retried until its lease runs out, and one answered 503 waits out its backoff. A
restarted worker cannot settle those in a test's time on the wall clock, and the library offers
no way to end a lease early. So the last step runs the worker's own reconciler pass
(``run_pass`` with ``SendPayouts`` over ``HttpPayoutProvider``: exactly what the restarted
worker runs) in-process with ``now`` past the lease, the supported way the library takes time.
``TESSERA_CRASH_TEST_REAL_LEASE=1`` instead leaves a restarted ``tessera worker`` running on the
wall clock until it settles them itself (about two and a half minutes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.db import make_sessionmaker
from app.operator.money import verify_ledger
from payments import HttpPayoutProvider
from payments.models import Payout
from payments.payouts import CLAIM_SECONDS, payout_key
from tests.conftest import FakeClock
from tests.factories import deposit, make_project, open_batch, signup
from workers.money import ReleaseHolds, SendPayouts
from workers.runner import run_pass

REPO = Path(__file__).resolve().parents[2]
REAL_LEASE = os.environ.get("TESSERA_CRASH_TEST_REAL_LEASE") == "1"
WAIT_S = 60.0  # a bound on each wait; each normally takes a few seconds, more on a loaded machine
H = dict[str, str]


# --- the fake payout provider ------------------------------------------------------------------


@dataclass
class FakeProvider:
    """What the fake provider saw and did. ``plan`` holds behaviours for the next new requests:
    ``"hang"`` (pay, then hold the answer until ``release``), ``"error"`` (pay, then answer 503),
    ``"answer"`` (pay and answer 200, the default)."""

    url: str = ""
    requests: list[str] = field(default_factory=list)  # every Idempotency-Key, in arrival order
    paid: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> the body it paid
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> the first answer
    mismatches: list[str] = field(default_factory=list)  # a key reused with another body
    answered: list[str] = field(default_factory=list)  # keys answered 200, in order
    plan: deque[str] = field(default_factory=deque)
    active: int = 0  # requests being handled right now
    release: threading.Event = field(default_factory=threading.Event)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout=WAIT_S), f"timed out waiting for {what}"

    def handle(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        with self.cond:
            self.requests.append(key)
            self.active += 1
            if key in self.paid:  # the same payout again: the first outcome, nothing moves
                if self.paid[key] != body:
                    self.mismatches.append(key)
                    behaviour, outcome = "answer", {"status": "failed", "reason": "key reused"}
                else:
                    behaviour, outcome = "answer", self.outcomes[key]
            else:
                self.paid[key] = body
                outcome = {"status": "paid", "id": f"po_{len(self.paid)}"}
                self.outcomes[key] = outcome
                behaviour = self.plan.popleft() if self.plan else "answer"
            self.cond.notify_all()
        return (503 if behaviour == "error" else 200), outcome, behaviour

    def done(self, key: str, *, answered: bool) -> None:
        with self.cond:
            self.active -= 1
            if answered:
                self.answered.append(key)
            self.cond.notify_all()


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            key = self.headers.get("Idempotency-Key", "")
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            code, outcome, behaviour = provider.handle(key, body)
            answered = False
            try:
                if behaviour == "hang":
                    provider.release.wait(WAIT_S)
                    return  # its caller is dead by now: nobody to answer
                data = json.dumps(outcome if code == 200 else {"error": "try again"}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                answered = code == 200
            except OSError:  # the worker was killed mid-answer
                pass
            finally:
                provider.done(key, answered=answered)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def provider(settings: Settings) -> Iterator[FakeProvider]:
    fake = FakeProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-payout-provider", daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/payouts"
    settings.payout_provider_url = fake.url  # the app records payouts as the http provider's
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


# --- the worker subprocess -----------------------------------------------------------------------


class Worker:
    """``tessera worker`` as a subprocess, its log in a file."""

    def __init__(self, settings: Settings, provider_url: str, log: Path) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TESSERA_DATABASE_URL": settings.database_url,
            "TESSERA_DATA_DIR": str(settings.data_dir),
            "TESSERA_MIGRATE_ON_START": "false",
            "TESSERA_PAYOUT_PROVIDER_URL": provider_url,
            "TESSERA_PAYOUT_TIMEOUT_S": "10",
        }
        self.log_path = log
        self._log: IO[bytes] = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--interval", "0.2"],
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> int:
        self.proc.send_signal(signal.SIGKILL)
        return self._wait()

    def stop(self) -> int:
        """SIGTERM: the worker finishes its pass and exits."""
        self.proc.send_signal(signal.SIGTERM)
        return self._wait()

    def _wait(self) -> int:
        try:
            return self.proc.wait(WAIT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(
    settings: Settings, provider: FakeProvider, tmp_path: Path
) -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(settings, provider.url, tmp_path / f"worker{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:  # nothing outlives the test (PostgreSQL truncates after it)
        if worker.proc.poll() is None:
            worker.kill()


# --- helpers -------------------------------------------------------------------------------------


def payouts(engine: Engine) -> dict[str, Payout]:
    with make_sessionmaker(engine)() as session:
        rows = session.scalars(select(Payout)).all()
        session.expunge_all()
        session.rollback()
    return {p.id: p for p in rows}


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def earn_and_withdraw(client: TestClient, clock: FakeClock, n_workers: int) -> list[H]:
    """Each worker earns 2.5 for one accepted answer and asks for it in two payouts (1 + 1.5)."""
    requester = signup(client, "requester")
    project = make_project(client, requester, reward="2.5", overlap={"min": 1, "max": 1})
    open_batch(client, requester, project["id"], n_images=n_workers, fund="20")
    workers = []
    for _ in range(n_workers):
        worker = signup(client, "worker")
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        r = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
        assert r.status_code == 200, r.text
        assert (
            client.post(f"/v1/assignments/{lease['id']}/accept", headers=requester).status_code
            == 200
        )
        workers.append(worker)
    deposit(client, requester, "1")  # a requester's money never goes near the payout provider
    clock.advance(
        86_400 + 1
    )  # past the default hold; the worker runs on the wall clock, later still
    run_pass(client.app.state.sessionmaker, [ReleaseHolds()], clock())  # type: ignore[attr-defined]
    for worker in workers:
        keyed = {**worker, "Idempotency-Key": "first"}
        first = client.post("/v1/payouts", json={"amount": "1"}, headers=keyed)
        again = client.post("/v1/payouts", json={"amount": "1"}, headers=keyed)  # a client retry
        assert first.status_code == again.status_code == 201, first.text
        assert first.json()["id"] == again.json()["id"]
        rest = client.post("/v1/payouts", json={}, headers=worker)
        assert rest.status_code == 201, rest.text
        assert rest.json()["amount"] == "1.5"
    return workers


# --- the test ------------------------------------------------------------------------------------


def test_worker_killed_mid_settlement_pays_every_payout_once(
    provider: FakeProvider,
    client: TestClient,
    clock: FakeClock,
    engine: Engine,
    start_worker: Callable[[], Worker],
) -> None:
    workers = earn_and_withdraw(client, clock, n_workers=6)
    ids = set(payouts(engine))
    assert len(ids) == 12
    assert all(p.status == "requested" and p.provider == "http" for p in payouts(engine).values())

    # 1. Killed while the provider holds its first request: paid there, no answer here.
    provider.plan.append("hang")
    first = start_worker()
    provider.wait_for(lambda: len(provider.requests) >= 1, "the first provider request")
    assert first.kill() == -signal.SIGKILL
    provider.release.set()
    hung_key = provider.requests[0]
    hung = next(p for p in payouts(engine).values() if payout_key(p.id) == hung_key)
    assert (hung.status, hung.attempts) == ("pending", 1)  # the claim was committed before the call
    assert hung.next_attempt_at > utc_now()  # leased

    # 2. Killed right after the provider answered a payout: its outcome may or may not be recorded.
    second = start_worker()
    provider.wait_for(lambda: len(provider.answered) >= 1, "an answered provider request")
    assert second.kill() == -signal.SIGKILL

    # 3. A restarted worker meets a provider that pays and then answers 503 (unknown to us), and
    #    settles the rest. Stopped (SIGTERM) once nothing is due on the wall clock.
    provider.plan.append("error")
    third = start_worker()

    def quiet() -> bool:
        now = utc_now()
        rows = payouts(engine).values()
        return provider.active == 0 and all(
            p.status == "paid" or (p.status == "pending" and p.next_attempt_at > now) for p in rows
        )

    wait_until(lambda: any(p.failure_reason for p in payouts(engine).values()), "the 503")
    wait_until(quiet, "every payout that is due to be settled")
    if not REAL_LEASE:
        assert third.stop() == 0, third.output()
    waiting = {p.id: p for p in payouts(engine).values() if p.status != "paid"}
    assert hung.id in waiting  # the lease held: nobody asked the provider about it again...
    assert Counter(provider.requests)[hung_key] == 1
    for p in waiting.values():  # ...nor about any payout still waiting out a lease or backoff
        assert Counter(provider.requests)[payout_key(p.id)] <= 1
    errored = [p for p in waiting.values() if p.failure_reason]
    assert len(errored) == 1
    assert "503" in (errored[0].failure_reason or "")

    # 4. After the lease and the backoff: the worker's own pass, at a time past both.
    if REAL_LEASE:
        deadline = time.monotonic() + CLAIM_SECONDS + 90
        while any(p.status != "paid" for p in payouts(engine).values()):
            assert time.monotonic() < deadline, third.output()
            time.sleep(1)
        assert third.stop() == 0, third.output()
    else:
        http = HttpPayoutProvider(provider.url, timeout=10)
        try:
            later = utc_now() + timedelta(seconds=CLAIM_SECONDS + 1)
            done = run_pass(make_sessionmaker(engine), [SendPayouts(http)], later)
        finally:
            http.close()
        assert done == {"payouts.send": len(waiting)}

    # Every payout paid exactly once: on our side, and on the provider's.
    final = payouts(engine)
    assert set(final) == ids
    assert {p.status for p in final.values()} == {"paid"}
    assert set(provider.paid) == {payout_key(i) for i in ids}  # one payment per payout, no more
    assert not provider.mismatches
    for p in final.values():
        body = provider.paid[payout_key(p.id)]
        assert (body["payout_id"], body["destination"]) == (p.id, p.worker_ref)
        assert p.provider_reference == provider.outcomes[payout_key(p.id)]["id"]
    assert (
        Counter(provider.requests)[hung_key] == 2
    )  # asked again once, answered with the first outcome

    for worker in workers:
        balance = client.get("/v1/me", headers=worker).json()["balance"]
        assert balance == {"pending": "0", "available": "0", "in_flight": "0", "paid_out": "2.5"}
    with make_sessionmaker(engine)() as session:
        report = verify_ledger(session)
    assert report.ok, report.violations
