"""Retries: connection failures, 429 and 503 are retried (Retry-After honoured) with the same
Idempotency-Key; other 4xx and 500 never are."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tessera.client import (
    APIError,
    Client,
    ConnectionFailed,
    RateLimited,
    RetryPolicy,
    ServerError,
    Unprocessable,
)
from tessera.client._http import parse_retry_after, retry_delay
from tests.client.conftest import InProcess


def _requester(connect: Any) -> tuple[Any, str]:
    account = connect().create_account("requester", "Rita")
    return connect(account.api_key), account.api_key


def test_injected_503_after_the_deposit_is_retried_with_the_same_key_and_deposits_once(
    client: TestClient, connect: Any
) -> None:
    _, key = _requester(connect)
    lost = {"n": 0}

    def fault(request: httpx.Request) -> httpx.Response | None:
        # The first two deposit attempts reach the service (which books them) but their answer
        # is lost behind a 503: the client only sees the 503.
        if request.url.path == "/v1/deposits" and lost["n"] < 2:
            lost["n"] += 1
            transport.app_client.request(
                "POST", "/v1/deposits", headers=dict(request.headers), content=request.content
            )
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"title": "busy"})
        return None

    transport = InProcess(client, fault)
    slept: list[float] = []
    c = Client("http://testserver", key, transport=transport, sleep=slept.append)
    deposit = c.deposit("7.5")
    assert deposit.amount == Decimal("7.5")
    sent = [r for r in transport.requests if r.url.path == "/v1/deposits"]
    assert len(sent) == 3
    assert len({r.headers["Idempotency-Key"] for r in sent}) == 1
    assert c.me().balance["available"] == Decimal("7.5")
    assert [e.amount for e in c.ledger() if e.kind == "deposit"] == [Decimal("7.5")]
    assert len(slept) == 2


def test_429_waits_what_retry_after_says(client: TestClient) -> None:
    calls = {"n": 0}

    def fault(_: httpx.Request) -> httpx.Response | None:
        calls["n"] += 1
        if calls["n"] <= 2:
            return httpx.Response(429, headers={"Retry-After": "3"}, json={"title": "slow down"})
        return None

    slept: list[float] = []
    c = Client("http://testserver", None, transport=InProcess(client, fault), sleep=slept.append)
    assert c.healthz()["status"] == "ok"
    assert len(slept) == 2
    assert all(3 <= s <= 3.3 for s in slept)


def test_429_gives_up_after_the_attempts_with_the_problem(client: TestClient) -> None:
    def fault(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, headers={"Retry-After": "1"}, json={"title": "Too many", "status": 429}
        )

    slept: list[float] = []
    c = Client(
        "http://testserver",
        None,
        transport=InProcess(client, fault),
        sleep=slept.append,
        retry=RetryPolicy(attempts=3),
    )
    with pytest.raises(RateLimited) as err:
        c.healthz()
    assert err.value.retry_after == 1.0
    assert err.value.problem["title"] == "Too many"
    assert len(slept) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500])
def test_other_errors_are_never_retried(client: TestClient, status: int) -> None:
    transport = InProcess(
        client, lambda _: httpx.Response(status, json={"title": "no", "status": status})
    )
    c = Client("http://testserver", None, transport=transport, sleep=lambda _: None)
    with pytest.raises(APIError) as err:
        c.deposit("1")
    assert err.value.status == status
    assert len(transport.requests) == 1
    if status == 500:
        assert isinstance(err.value, ServerError)


def test_a_real_refusal_carries_its_problem_document(connect: Any) -> None:
    c, _ = _requester(connect)
    with pytest.raises(Unprocessable) as err:
        c.deposit("-3")
    assert err.value.problem["status"] == 422
    assert err.value.problem["type"]
    assert len(c._http._transport.requests) == 1


def test_connection_errors_are_retried_then_reported(client: TestClient) -> None:
    calls = {"n": 0}

    def fault(request: httpx.Request) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise httpx.ConnectError("refused", request=request)

    slept: list[float] = []
    c = Client("http://testserver", None, transport=InProcess(client, fault), sleep=slept.append)
    assert c.healthz()["status"] == "ok"
    assert len(slept) == 2

    def always(request: httpx.Request) -> None:
        raise httpx.ConnectError("refused", request=request)

    dead = Client(
        "http://testserver",
        None,
        transport=InProcess(client, always),
        sleep=lambda _: None,
        retry=RetryPolicy(attempts=3),
    )
    with pytest.raises(ConnectionFailed):
        dead.healthz()


def test_a_read_failure_is_retried_only_when_a_replay_is_harmless(client: TestClient) -> None:
    def fault(request: httpx.Request) -> None:
        raise httpx.ReadError("reset", request=request)

    transport = InProcess(client, fault)
    c = Client("http://testserver", None, transport=transport, sleep=lambda _: None)
    with pytest.raises(ConnectionFailed):
        c.accept("asg_x")  # a POST without Idempotency-Key: sent once
    assert len(transport.requests) == 1
    with pytest.raises(ConnectionFailed):
        c.deposit("1")  # with a key: replayed
    assert len(transport.requests) == 1 + 6


def test_backoff_grows_with_full_jitter_and_retry_after_parses() -> None:
    policy = RetryPolicy(backoff_s=1, max_backoff_s=8)
    five_hundred_three = httpx.Response(503)
    delays = [
        retry_delay(policy, a, response=five_hundred_three, replay_safe=True) for a in range(5)
    ]
    assert all(d is not None and 0 <= d <= min(8, 2**a) for a, d in enumerate(delays))
    assert retry_delay(policy, 5, response=five_hundred_three, replay_safe=True) is None
    assert parse_retry_after("12") == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None
