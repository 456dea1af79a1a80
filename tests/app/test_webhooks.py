"""Signed webhooks against a real receiver: an HTTP server in a thread on 127.0.0.1.

Registration resolves the receiver's name to a public address (``app.state.url_resolver``, as
the image-URL tests do); the deliverer's guard then maps it to the loopback receiver, the one
place a test bends the SSRF rule. The deliverer runs with the test's clock and waits for its
calls (``background=False``), so backoff is driven by moving the clock, never by sleeping.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.images.netguard import resolve_public
from app.models import WebhookDelivery
from payments import EmbeddedPayoutProvider
from tessera.client import SignatureError, verify_signature
from tests.conftest import FakeClock
from tests.factories import account_id, make_operator, make_project, open_batch, signup
from workers.money import ReleaseHolds, SendPayouts, SettleBatches
from workers.runner import run_pass
from workers.webhooks import DeliverWebhooks

PUBLIC = "93.184.216.34"
ALL_REQUESTER_EVENTS = [
    "batch.launched",
    "task.completed",
    "batch.completed",
    "assignment.submitted",
    "appeal.opened",
]


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    port: int
    calls: list[Call] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """Answers to give, in order; 200 once they run out."""
    hang: threading.Event | None = None
    """Set: every call waits for it before answering (a receiver that hangs)."""
    got: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://hooks.example.com:{self.port}{path}"


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.calls.append(Call(self.path, dict(self.headers.items()), body))
            receiver.got.set()
            if receiver.hang is not None:
                receiver.hang.wait(30)
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(0)))
    handler_receiver = Receiver(server.server_address[1])
    server.RequestHandlerClass = _handler(handler_receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler_receiver
    if handler_receiver.hang is not None:
        handler_receiver.hang.set()
    server.shutdown()
    server.server_close()


def loopback(_host: str) -> ipaddress.IPv4Address:
    """The test's DNS: every name is the local receiver."""
    return ipaddress.IPv4Address("127.0.0.1")


@pytest.fixture
def deliverer(clock: FakeClock) -> DeliverWebhooks:
    return DeliverWebhooks(guard=loopback, clock=clock, background=False)


@pytest.fixture
def hooks_client(client: TestClient) -> TestClient:
    client.app.state.url_resolver = lambda host: [PUBLIC]  # type: ignore[attr-defined]
    return client


def register(
    client: TestClient, headers: dict[str, str], url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    r = client.post("/v1/webhooks", json={"url": url, "events": events, **extra}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def deliver(client: TestClient, deliverer: DeliverWebhooks, clock: FakeClock) -> None:
    run_pass(client.app.state.sessionmaker, [deliverer], clock())  # type: ignore[attr-defined]


def deliveries(client: TestClient, headers: dict[str, str], webhook_id: str) -> list[Any]:
    r = client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def outbox_rows(client: TestClient, event_type: str) -> int:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        return int(
            session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.event_type == event_type)
            )
            or 0
        )


def verified(call: Call, secret: str, clock: FakeClock) -> dict[str, Any]:
    verify_signature(call.body, call.headers["Tessera-Signature"], secret, now=clock().timestamp())
    return call.event


class TestRegistration:
    def test_register_list_get_delete(self, hooks_client: TestClient) -> None:
        client = hooks_client
        requester = signup(client, "requester")
        made = register(client, requester, "https://hooks.example.com/a", ["batch.completed"])
        assert made["secret"].startswith("whsec_")
        assert len(made["secret"]) > 30
        given = register(
            client, requester, "https://hooks.example.com/b", ["task.completed"],
            secret="s" * 20,
        )  # fmt: skip
        assert given["secret"] == "s" * 20
        listed = client.get("/v1/webhooks", headers=requester).json()
        assert [w["id"] for w in listed["items"]] == [given["id"], made["id"]]
        assert all(w["secret"] is None for w in listed["items"])  # shown once, at creation
        page = client.get("/v1/webhooks?limit=1", headers=requester).json()
        assert page["next_cursor"] == given["id"]
        one = client.get(f"/v1/webhooks/{made['id']}", headers=requester).json()
        assert one["events"] == ["batch.completed"]
        assert one["secret"] is None
        assert client.delete(f"/v1/webhooks/{made['id']}", headers=requester).status_code == 204
        assert client.get(f"/v1/webhooks/{made['id']}", headers=requester).status_code == 404

    def test_another_account_sees_none_of_them(self, hooks_client: TestClient) -> None:
        client = hooks_client
        owner, other = signup(client, "requester"), signup(client, "requester")
        hook = register(client, owner, "https://hooks.example.com/a", ["batch.launched"])
        assert client.get("/v1/webhooks", headers=other).json()["items"] == []
        for method, path in [
            ("GET", ""),
            ("DELETE", ""),
            ("POST", "/ping"),
            ("GET", "/deliveries"),
        ]:
            r = client.request(method, f"/v1/webhooks/{hook['id']}{path}", headers=other)
            assert r.status_code == 404, (method, path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")

    def test_events_by_role(self, hooks_client: TestClient) -> None:
        client = hooks_client
        requester, worker = signup(client, "requester"), signup(client, "worker")
        r = client.post(
            "/v1/webhooks",
            json={"url": "https://hooks.example.com/", "events": ["payout.paid"]},
            headers=requester,
        )
        assert r.status_code == 422
        assert "payout.paid" in r.json()["detail"]
        r = client.post(
            "/v1/webhooks",
            json={"url": "https://hooks.example.com/", "events": ["batch.launched"]},
            headers=worker,
        )
        assert r.status_code == 422, r.text
        register(client, worker, "https://hooks.example.com/w", ["payout.paid"])
        r = client.post(
            "/v1/webhooks",
            json={"url": "https://hooks.example.com/", "events": ["nope"]},
            headers=worker,
        )
        assert r.status_code == 422, r.text

    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://127.0.0.1:8000/hook",
            "http://[::1]/hook",
            "http://2130706433/",
            "http://[::ffff:10.0.0.1]/",
            "ftp://hooks.example.com/",
            "http://user:pw@hooks.example.com/",
            "not a url",
        ],
    )
    def test_ssrf_urls_are_refused(self, hooks_client: TestClient, url: str) -> None:
        requester = signup(hooks_client, "requester")
        r = hooks_client.post(
            "/v1/webhooks", json={"url": url, "events": ["batch.launched"]}, headers=requester
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/webhook-url-refused")

    def test_a_name_resolving_inside_is_refused(self, client: TestClient) -> None:
        client.app.state.url_resolver = lambda host: [PUBLIC, "10.1.2.3"]  # type: ignore[attr-defined]
        requester = signup(client, "requester")
        r = client.post(
            "/v1/webhooks",
            json={"url": "https://sneaky.example.com/", "events": ["batch.launched"]},
            headers=requester,
        )
        assert r.status_code == 422, r.text
        assert "10.1.2.3" not in r.text  # the internal address is not echoed


class TestDelivery:
    def test_every_event_of_a_batch_signed_and_in_order(
        self,
        hooks_client: TestClient,
        receiver: Receiver,
        deliverer: DeliverWebhooks,
        clock: FakeClock,
    ) -> None:
        client = hooks_client
        requester, worker = signup(client, "requester"), signup(client, "worker")
        hook = register(client, requester, receiver.url(), ALL_REQUESTER_EVENTS)
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        batch = open_batch(client, requester, project["id"], n_images=2)
        done = []
        for _ in range(2):
            lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
            r = client.post(
                f"/v1/assignments/{lease.json()['id']}/submit",
                json={"answer": {"label": "cat"}},
                headers=worker,
            )
            assert r.status_code == 200, r.text
            done.append(r.json()["id"])
        for asg in done:
            assert client.post(f"/v1/assignments/{asg}/accept", headers=requester).is_success
        run_pass(client.app.state.sessionmaker, [SettleBatches()], clock())  # type: ignore[attr-defined]
        deliver(client, deliverer, clock)

        events = [verified(call, hook["secret"], clock) for call in receiver.calls]
        assert [e["type"] for e in events] == [
            "batch.launched",
            "assignment.submitted",
            "task.completed",
            "assignment.submitted",
            "task.completed",
            "batch.completed",
        ]
        assert {e["data"]["batch_id"] for e in events} == {batch["id"]}
        ids = [e["id"] for e in events]
        assert len(set(ids)) == 6
        assert ids == sorted(ids)
        assert [c.headers["Tessera-Event-Id"] for c in receiver.calls] == ids
        submitted, completed = events[1]["data"], events[2]["data"]
        assert submitted["assignment_id"] == done[0]
        assert submitted["worker_id"] == account_id(worker)
        assert completed["answer"] == {"label": "cat"}
        assert completed["answer_count"] == 1
        assert completed["task_id"] == submitted["task_id"]
        assert events[0]["created_at"].endswith("Z")
        with pytest.raises(SignatureError):
            verify_signature(
                receiver.calls[0].body + b" ",
                receiver.calls[0].headers["Tessera-Signature"],
                hook["secret"],
                now=clock().timestamp(),
            )
        with pytest.raises(SignatureError):  # replayed after the tolerance
            verify_signature(
                receiver.calls[0].body,
                receiver.calls[0].headers["Tessera-Signature"],
                hook["secret"],
                now=clock().timestamp() + 301,
            )
        rows = deliveries(client, requester, hook["id"])
        assert {d["status"] for d in rows} == {"delivered"}
        assert len(rows) == 6

    def test_500_twice_then_200_is_three_calls_with_one_event_id(
        self,
        hooks_client: TestClient,
        receiver: Receiver,
        deliverer: DeliverWebhooks,
        clock: FakeClock,
    ) -> None:
        client = hooks_client
        requester = signup(client, "requester")
        hook = register(client, requester, receiver.url(), ["batch.launched"])
        receiver.statuses = [500, 500, 200]
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)

        deliver(client, deliverer, clock)
        (row,) = deliveries(client, requester, hook["id"])
        assert (row["status"], row["attempts"], row["response_status"]) == ("pending", 1, 500)
        assert row["error"] == "HTTP 500"
        deliver(client, deliverer, clock)  # backing off: not due yet
        assert len(receiver.calls) == 1
        clock.advance(30)  # the first backoff is at most 30 s
        deliver(client, deliverer, clock)
        assert len(receiver.calls) == 2
        clock.advance(60)
        deliver(client, deliverer, clock)
        assert len(receiver.calls) == 3
        ids = {c.event["id"] for c in receiver.calls}
        assert len(ids) == 1
        assert {c.headers["Tessera-Event-Id"] for c in receiver.calls} == ids
        assert [c.headers["Tessera-Delivery-Attempt"] for c in receiver.calls] == ["1", "2", "3"]
        (row,) = deliveries(client, requester, hook["id"])
        assert (row["status"], row["attempts"], row["response_status"]) == ("delivered", 3, 200)
        assert row["next_attempt_at"] is None
        assert row["delivered_at"] is not None

    def test_gives_up_after_72_hours_and_says_so(
        self,
        hooks_client: TestClient,
        receiver: Receiver,
        deliverer: DeliverWebhooks,
        clock: FakeClock,
    ) -> None:
        client = hooks_client
        requester = signup(client, "requester")
        hook = register(client, requester, receiver.url(), ["batch.launched"])
        receiver.statuses = [503] * 1000
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        started = clock()
        for _ in range(100):
            deliver(client, deliverer, clock)
            (row,) = deliveries(client, requester, hook["id"])
            if row["status"] != "pending":
                break
            clock.advance(3600)
        assert row["status"] == "failed"
        assert row["response_status"] == 503
        assert 66 * 3600 <= (clock() - started).total_seconds() <= 72 * 3600
        attempts = len(receiver.calls)
        assert row["attempts"] == attempts
        assert 10 <= attempts <= 30
        clock.advance(86400)
        deliver(client, deliverer, clock)
        assert len(receiver.calls) == attempts  # failed is final

    def test_a_later_event_of_a_batch_waits_for_the_earlier_one(
        self,
        hooks_client: TestClient,
        receiver: Receiver,
        deliverer: DeliverWebhooks,
        clock: FakeClock,
    ) -> None:
        client = hooks_client
        requester, worker = signup(client, "requester"), signup(client, "worker")
        register(client, requester, receiver.url(), ["batch.launched", "assignment.submitted"])
        receiver.statuses = [500]
        project = make_project(client, requester)
        open_batch(client, requester, project["id"], n_images=1)
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "dog"}},
            headers=worker,
        )
        deliver(client, deliverer, clock)
        assert [c.event["type"] for c in receiver.calls] == ["batch.launched"]
        clock.advance(30)
        deliver(client, deliverer, clock)
        assert [c.event["type"] for c in receiver.calls] == [
            "batch.launched",
            "batch.launched",
            "assignment.submitted",
        ]

    def test_a_hanging_receiver_holds_up_only_its_own_queue(
        self, hooks_client: TestClient, receiver: Receiver, clock: FakeClock
    ) -> None:
        """Two receivers; one never answers. With the deliverer in the background (as in serve),
        the other still gets its event while the first is hanging, and ``run_once`` returned
        without waiting for either."""
        client = hooks_client
        hanging = receiver
        hanging.hang = threading.Event()
        slow_owner, owner = signup(client, "requester"), signup(client, "requester")
        register(client, slow_owner, hanging.url("/slow"), ["batch.launched"])
        good_server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(0)))
        good = Receiver(good_server.server_address[1])
        good_server.RequestHandlerClass = _handler(good)
        threading.Thread(target=good_server.serve_forever, daemon=True).start()
        try:
            register(client, owner, good.url("/fast"), ["batch.launched"])
            open_batch(client, slow_owner, make_project(client, slow_owner)["id"], n_images=1)
            background = DeliverWebhooks(guard=loopback, clock=clock)
            deliver(client, background, clock)
            assert hanging.got.wait(10)  # the hanging receiver has its call, and holds it
            open_batch(client, owner, make_project(client, owner)["id"], n_images=1)
            deliver(client, background, clock)
            assert good.got.wait(10), "the good receiver waited for the hanging one"
            assert not hanging.hang.is_set()
            assert [c.event["type"] for c in good.calls] == ["batch.launched"]
        finally:
            hanging.hang.set()
            good_server.shutdown()
            good_server.server_close()

    def test_the_guard_applies_at_delivery_too(
        self, hooks_client: TestClient, receiver: Receiver, clock: FakeClock
    ) -> None:
        """The name resolved to a public address at registration and to an internal one now
        (DNS rebinding): the call is refused, not made."""
        client = hooks_client
        requester = signup(client, "requester")
        hook = register(client, requester, receiver.url(), ["batch.launched"])
        open_batch(client, requester, make_project(client, requester)["id"], n_images=1)
        rebound = DeliverWebhooks(
            guard=lambda host: resolve_public(host, lambda _: ["10.0.0.7"]),
            clock=clock,
            background=False,
        )
        deliver(client, rebound, clock)
        assert receiver.calls == []
        (row,) = deliveries(client, requester, hook["id"])
        assert row["status"] == "pending"
        assert row["error"].startswith("refused:")
        assert "10.0.0.7" not in row["error"]

    def test_ping_and_deleted_webhooks(
        self,
        hooks_client: TestClient,
        receiver: Receiver,
        deliverer: DeliverWebhooks,
        clock: FakeClock,
    ) -> None:
        client = hooks_client
        requester = signup(client, "requester")
        hook = register(client, requester, receiver.url(), ["batch.launched"])
        r = client.post(f"/v1/webhooks/{hook['id']}/ping", headers=requester)
        assert r.status_code == 202, r.text
        deliver(client, deliverer, clock)
        (call,) = receiver.calls
        assert verified(call, hook["secret"], clock)["type"] == "ping"
        assert call.event["id"] == r.json()["event_id"]
        client.post(f"/v1/webhooks/{hook['id']}/ping", headers=requester)
        client.delete(f"/v1/webhooks/{hook['id']}", headers=requester)
        deliver(client, deliverer, clock)
        assert len(receiver.calls) == 1


class TestOutbox:
    def test_rows_exist_iff_the_change_committed(
        self, hooks_client: TestClient, receiver: Receiver
    ) -> None:
        client = hooks_client
        requester, worker = signup(client, "requester"), signup(client, "worker")
        register(client, requester, receiver.url(), ["assignment.submitted", "task.completed"])
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        open_batch(client, requester, project["id"], n_images=1)
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        refused = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "emu"}},
            headers=worker,
        )
        assert refused.status_code == 422
        assert outbox_rows(client, "assignment.submitted") == 0
        assert outbox_rows(client, "task.completed") == 0
        ok = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
        assert ok.status_code == 200, ok.text
        again = client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
        assert again.status_code == 409
        assert outbox_rows(client, "assignment.submitted") == 1
        assert outbox_rows(client, "task.completed") == 1

    def test_nothing_is_written_without_a_subscriber(self, client: TestClient) -> None:
        requester, worker = signup(client, "requester"), signup(client, "worker")
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        open_batch(client, requester, project["id"], n_images=1)
        lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker).json()
        client.post(
            f"/v1/assignments/{lease['id']}/submit",
            json={"answer": {"label": "cat"}},
            headers=worker,
        )
        with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
            assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0

    def test_appeals_and_payouts(
        self,
        hooks_client: TestClient,
        receiver: Receiver,
        deliverer: DeliverWebhooks,
        clock: FakeClock,
        settings: Any,
    ) -> None:
        client = hooks_client
        operator = make_operator(settings)
        r = client.patch(
            "/v1/admin/settings",
            json={"payout_hold_s": 0, "min_payout": "0.01"},
            headers=operator,
        )
        assert r.status_code == 200, r.text
        requester = signup(client, "requester")
        worker, other = signup(client, "worker"), signup(client, "worker")
        r_hook = register(client, requester, receiver.url("/r"), ["appeal.opened"])
        w_hook = register(client, worker, receiver.url("/w"), ["payout.paid"])
        register(client, other, receiver.url("/o"), ["payout.paid"])
        project = make_project(client, requester, overlap={"min": 1, "max": 1})
        open_batch(client, requester, project["id"], n_images=2)
        answered = []
        for _ in range(2):
            lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
            client.post(
                f"/v1/assignments/{lease.json()['id']}/submit",
                json={"answer": {"label": "cat"}},
                headers=worker,
            )
            answered.append(lease.json()["id"])
        client.post(f"/v1/assignments/{answered[0]}/accept", headers=requester)
        r = client.post(
            f"/v1/assignments/{answered[1]}/reject", json={"reason": "dog"}, headers=requester
        )
        assert r.status_code == 200, r.text
        r = client.post(
            f"/v1/assignments/{answered[1]}/appeal", json={"message": "look"}, headers=worker
        )
        assert r.status_code == 200, r.text
        sessions = client.app.state.sessionmaker  # type: ignore[attr-defined]
        run_pass(sessions, [ReleaseHolds()], clock())
        r = client.post("/v1/payouts", json={}, headers=worker)
        assert r.status_code == 201, r.text
        run_pass(sessions, [SendPayouts(EmbeddedPayoutProvider())], clock())
        deliver(client, deliverer, clock)
        by_path = {c.path: c for c in receiver.calls}
        assert set(by_path) == {"/r", "/w"}  # the other worker was paid nothing
        appeal = verified(by_path["/r"], r_hook["secret"], clock)
        assert appeal["type"] == "appeal.opened"
        assert appeal["data"]["assignment_id"] == answered[1]
        assert appeal["data"]["message"] == "look"
        paid = verified(by_path["/w"], w_hook["secret"], clock)
        assert paid["type"] == "payout.paid"
        assert paid["data"]["amount"] == "0.02"


def test_private_hosts_setting_lets_a_local_receiver_in(
    settings: Any, clock: FakeClock, receiver: Receiver
) -> None:
    """``TESSERA_WEBHOOK_PRIVATE_HOSTS``: a receiver on 127.0.0.1 registers, and the deliverer
    that ``serve`` builds from these settings reaches it (the URL's form is still checked)."""
    from app.main import create_app
    from workers.runner import default_reconcilers

    local = settings.model_copy(update={"webhook_private_hosts": True})
    app = create_app(local)
    app.state.clock = clock
    with TestClient(app) as client:
        requester = signup(client, "requester")
        url = f"http://127.0.0.1:{receiver.port}/local"
        hook = register(client, requester, url, ["batch.launched"])
        r = client.post(
            "/v1/webhooks",
            json={"url": "ftp://127.0.0.1/", "events": ["batch.launched"]},
            headers=requester,
        )
        assert r.status_code == 422, r.text
        open_batch(client, requester, make_project(client, requester)["id"], n_images=1)
        (deliverer,) = [r for r in default_reconcilers(local) if r.name == "webhooks.deliver"]
        assert isinstance(deliverer, DeliverWebhooks)
        deliverer.background, deliverer.clock = False, clock
        run_pass(app.state.sessionmaker, [deliverer], clock())
        (call,) = receiver.calls
        assert verified(call, hook["secret"], clock)["type"] == "batch.launched"
