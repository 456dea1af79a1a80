"""The ``http`` model contract against a real local model server: the example server of
docs/MODELS.md, run from the page itself, in a thread (good, slow, failing, malformed, signed
with the wrong secret, and a URL that turns private)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.annotators.delivery import MAX_ATTEMPTS, CallSettings
from app.annotators.service import predictions_for
from app.core import signatures
from app.models import ModelCall, Task
from tessera.client import Client, verify_signature
from tests.annotators.conftest import EXAMPLE, Server
from tests.client.conftest import Live
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, png, signup
from workers.annotators import CallModels
from workers.runner import run_pass

CLASSES = {"type": "classification", "labels": ["red", "green", "blue"]}


@dataclass
class App:
    """A project with an open batch, a way to attach a model and to run the call reconciler."""

    client: TestClient
    clock: FakeClock
    requester: dict[str, str]
    project: dict[str, Any]

    def attach(self, url: str, **kw: Any) -> dict[str, Any]:
        r = self.client.post(
            f"/v1/projects/{self.project['id']}/models",
            headers=self.requester,
            json={"kind": "http", "name": "mine", "url": url, **kw},
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    @property
    def makers(self) -> sessionmaker[Session]:
        return self.client.app.state.sessionmaker  # type: ignore[attr-defined, no-any-return]

    def run(self, **options: Any) -> int:
        state = self.client.app.state  # type: ignore[attr-defined]
        reconciler = CallModels(
            state.settings,
            options=CallSettings(**{"private_hosts": True, **options}),
            store=state.image_store,
        )
        return run_pass(self.makers, [reconciler], self.clock())["models.call"]

    def calls(self) -> list[ModelCall]:
        with self.makers() as s:
            return list(s.scalars(select(ModelCall).order_by(ModelCall.task_id)))

    def predictions(self) -> dict[str, list[Any]]:
        with self.makers() as s:
            ids = s.scalars(select(Task.id).where(Task.project_id == self.project["id"])).all()
            return {k: [(p.answer, p.score) for p in v] for k, v in predictions_for(s, ids).items()}


@pytest.fixture
def app(client: TestClient, clock: FakeClock) -> App:
    client.app.state.settings.model_private_hosts = True  # type: ignore[attr-defined]
    requester = signup(client, "requester")
    project = make_project(client, requester, annotation=CLASSES, gold_rate=0)
    open_batch(client, requester, project["id"], 2)
    return App(client, clock, requester, project)


def green(_task: dict[str, Any]) -> dict[str, Any]:
    return {"answer": {"label": "green"}, "score": 0.8}


def test_end_to_end_over_real_http(
    live: Live, clock: FakeClock, model_server: Callable[..., Server]
) -> None:
    """Through uvicorn: the example server checks the signature, downloads the image from the
    signed URL it was sent, and answers; the answer becomes the task's prediction and the
    pre-annotation the worker's lease shows. Each task is asked once."""
    state = live.app.state
    state.settings.model_private_hosts = True
    with Client(live.url) as anon:
        key = anon.create_account("requester", "Rita").api_key
        worker_key = anon.create_account("worker", "Walt").api_key
    server = model_server()
    with Client(live.url, key) as c:
        project = c.create_project({"name": "Colours", "annotation": CLASSES, "gold_rate": 0})
        c.deposit("50")
        batch = c.create_batch(project.id, [("red.png", png(40, 30, (220, 20, 20)))])
        c.launch_batch(batch.id)
        attached = c.create_model(project.id, {"kind": "http", "name": "c", "url": server.url})
    server.knows(attached.signing_secret)
    reconciler = CallModels(
        state.settings,
        options=CallSettings(base_url=live.url, private_hosts=True),
        store=state.image_store,
    )
    assert run_pass(state.sessionmaker, [reconciler], clock())["models.call"] == 1
    assert server.requests[0]["image_url"].startswith(f"{live.url}/v1/images/")
    with state.sessionmaker() as s:
        [call] = s.scalars(select(ModelCall)).all()
        assert (call.status, call.error, call.attempts) == ("done", None, 1)
        [task] = s.scalars(select(Task)).all()
        [prediction] = predictions_for(s, [task.id])[task.id]
        assert (prediction.answer, prediction.score) == ({"label": "red"}, 0.6)
        assert (task.pre_annotation, task.pre_annotation_model_id) == (
            {"label": "red"},
            attached.id,
        )
    with Client(live.url, worker_key) as w:
        lease = w.lease(project.id)
        assert lease is not None
        assert lease.task.pre_annotation == {"label": "red"}
    assert run_pass(state.sessionmaker, [reconciler], clock())["models.call"] == 0
    assert len(server.requests) == 1


class TestSignature:
    def test_wrong_secret_is_refused_by_the_server_and_fails_the_call(
        self, app: App, model_server: Callable[..., Server]
    ) -> None:
        server = model_server(green)
        app.attach(server.url)
        server.knows("tms_not-the-secret")
        assert app.run() == 2
        assert {(c.status, c.error) for c in app.calls()} == {
            ("failed", "the model server answered HTTP 401")
        }
        assert server.requests == []
        assert all(v == [] for v in app.predictions().values())

    def test_scheme(self) -> None:
        body = b'{"task_id":"tsk_1"}'
        header = signatures.sign("s3cret", 1_700_000_000, body)
        assert header.startswith("t=1700000000,v1=")
        assert signatures.verify("s3cret", header, body, now=1_700_000_100)
        assert EXAMPLE["verified"](header, body, b"s3cret", 1_700_000_100)
        assert not signatures.verify("s3cret", header, body + b" ", now=1_700_000_100)
        assert not signatures.verify("other", header, body, now=1_700_000_100)
        assert not signatures.verify("s3cret", header, body, now=1_700_000_000 + 301)
        assert not EXAMPLE["verified"](header, body, b"s3cret", 1_700_000_000 + 301)
        assert not signatures.verify("s3cret", "v1=abc", body, now=1_700_000_000)

    def test_same_scheme_as_webhooks(self) -> None:
        """One scheme for every signed outgoing call (models and webhooks share
        ``app.core.signatures``): the client's webhook verifier accepts a model call's."""
        body = b'{"task_id":"tsk_1"}'
        header = signatures.sign("s3cret", 1_700_000_000, body)
        verify_signature(body, header, "s3cret", now=1_700_000_010)


class TestFailures:
    def test_slow_server_times_out_and_is_retried_with_backoff_then_given_up(
        self, app: App, model_server: Callable[..., Server]
    ) -> None:
        def slow(task: dict[str, Any]) -> dict[str, Any]:
            time.sleep(1.0)
            return green(task)

        server = model_server(slow)
        server.knows(app.attach(server.url, timeout_s=0.2)["signing_secret"])
        assert app.run() == 2
        calls = app.calls()
        assert {(c.status, c.attempts) for c in calls} == {("pending", 1)}
        assert all("no answer within 0.2 s" in (c.error or "") for c in calls)
        delays = []
        for attempt in range(2, MAX_ATTEMPTS + 1):
            assert app.run() == 0  # not due yet: backoff
            wait = (calls[0].next_attempt_at - app.clock()).total_seconds()
            delays.append(wait)
            app.clock.advance(wait)
            assert app.run() == 2
            calls = app.calls()
            assert {c.attempts for c in calls} == {attempt}
        assert delays == [15, 30, 60, 120]
        assert {c.status for c in app.calls()} == {"failed"}
        assert all(v == [] for v in app.predictions().values())

    def test_server_errors_are_retried_until_it_answers(
        self, app: App, model_server: Callable[..., Server]
    ) -> None:
        failures = [2]

        def flaky(task: dict[str, Any]) -> dict[str, Any]:
            if failures[0] > 0:
                failures[0] -= 1
                raise RuntimeError("model not loaded yet")  # the connection drops, no answer
            return green(task)

        server = model_server(flaky)
        server.knows(app.attach(server.url)["signing_secret"])
        app.run()
        app.clock.advance(15)
        app.run()
        assert {c.status for c in app.calls()} == {"done"}
        assert all(v == [({"label": "green"}, 0.8)] for v in app.predictions().values())

    @pytest.mark.parametrize(
        ("reply", "reason"),
        [
            ({"answer": {"label": "purple"}, "score": 0.9}, '"answer" does not fit the project'),
            ({"answer": {"label": "red"}, "score": 1.5}, '"score" is not a number from 0 to 1'),
            ({"answer": {"label": "red"}, "score": True}, '"score" is not a number from 0 to 1'),
            ({"label": "red"}, 'not an object with "answer" and "score"'),
            (["red"], 'not an object with "answer" and "score"'),
        ],
    )
    def test_malformed_reply_fails_at_once_without_prediction(
        self, app: App, model_server: Callable[..., Server], reply: Any, reason: str
    ) -> None:
        server = model_server(lambda task: reply)
        server.knows(app.attach(server.url)["signing_secret"])
        assert app.run() == 2
        calls = app.calls()
        assert {(c.status, c.attempts) for c in calls} == {("failed", 1)}
        assert all(reason in (c.error or "") for c in calls), calls[0].error
        assert all(v == [] for v in app.predictions().values())
        listed = app.client.get(f"/v1/projects/{app.project['id']}/models", headers=app.requester)
        assert listed.json()["items"][0]["failed_calls"] == 2
        assert reason in listed.json()["items"][0]["last_error"]

    def test_reply_not_json_fails(self, app: App) -> None:
        class NotJson(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "5")
                self.end_headers()
                self.wfile.write(b"hello")

            def log_message(self, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), NotJson)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            app.attach(f"http://127.0.0.1:{httpd.server_address[1]}/")
            app.run()
        finally:
            httpd.shutdown()
            httpd.server_close()
        assert {(c.status, c.error) for c in app.calls()} == {("failed", "the reply is not JSON")}


class TestNetworkGuard:
    def test_a_name_that_turns_private_is_never_called(
        self, app: App, model_server: Callable[..., Server]
    ) -> None:
        """Checked when attached (public then) and again at call time (now loopback)."""
        server = model_server(green)
        port = server.url.split(":")[2].split("/")[0]
        app.client.app.state.settings.model_private_hosts = False  # type: ignore[attr-defined]
        app.client.app.state.url_resolver = lambda host: ["93.184.215.14"]  # type: ignore[attr-defined]
        server.knows(app.attach(f"http://models.example:{port}/predict")["signing_secret"])
        assert app.run(private_hosts=False, resolver=lambda host: ["127.0.0.1"]) == 2
        assert server.requests == []
        calls = app.calls()
        assert {c.status for c in calls} == {"failed"}
        assert all("model URL" in (c.error or "") for c in calls)

    def test_detached_model_is_not_called(
        self, app: App, model_server: Callable[..., Server]
    ) -> None:
        server = model_server(green)
        made = app.attach(server.url)
        server.knows(made["signing_secret"])
        app.client.delete(
            f"/v1/projects/{app.project['id']}/models/{made['id']}", headers=app.requester
        )
        assert app.run() == 0
        assert server.requests == []
