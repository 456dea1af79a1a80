"""Browser sign-in: accounts with email + password, the session cookie, CSRF, sign-out,
throttled sign-in, named API keys, and nothing secret in the logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.conftest import FakeClock
from tests.factories import auth

PASSWORD = "correct horse battery"


def register(client: TestClient, email: str = "ada@example.com", **extra: str) -> dict[str, str]:
    body = {"role": "worker", "name": "Ada", "email": email, "password": PASSWORD, **extra}
    r = client.post("/v1/accounts", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def sign_in(client: TestClient, email: str = "ada@example.com", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/v1/sessions", json={"email": email, "password": password})


class TestSignUp:
    def test_email_and_password_make_an_account_that_signs_in(self, client: TestClient) -> None:
        account = register(client, email="Ada@Example.COM")
        assert account["email"] == "ada@example.com"
        r = sign_in(client, email="  ADA@example.com ")
        assert r.status_code == 201, r.text
        assert r.json()["account"]["id"] == account["id"]
        assert client.get("/v1/me", headers=auth(account["api_key"])).status_code == 200

    def test_email_is_unique_whatever_its_case(self, client: TestClient) -> None:
        register(client)
        r = client.post(
            "/v1/accounts",
            json={"role": "worker", "name": "B", "email": "ADA@example.com", "password": PASSWORD},
        )
        assert r.status_code == 409
        assert "sign in" in r.json()["detail"]

    @pytest.mark.parametrize(
        "body",
        [
            {"email": "a@example.com", "password": "short"},
            {"email": "not-an-email", "password": PASSWORD},
            {"email": "a@example.com"},
            {"password": PASSWORD},
        ],
    )
    def test_bad_credentials_are_422(self, client: TestClient, body: dict[str, str]) -> None:
        r = client.post("/v1/accounts", json={"role": "worker", "name": "A", **body})
        assert r.status_code == 422, r.text

    def test_password_is_never_logged(
        self, client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.DEBUG):
            account = register(client)
            sign_in(client)
            sign_in(client, password="wrong password!")
            client.post("/v1/accounts", json={"role": "worker", "name": "x", "password": "pw"})
        assert PASSWORD not in caplog.text
        assert "wrong password!" not in caplog.text
        assert account["api_key"] not in caplog.text


class TestSession:
    def test_cookie_is_httponly_lax_and_not_secure_over_http(self, client: TestClient) -> None:
        register(client)
        header = sign_in(client).headers["set-cookie"]
        assert header.startswith("tessera_session=")
        assert "HttpOnly" in header
        assert "SameSite=lax" in header
        assert "Secure" not in header

    def test_cookie_is_secure_behind_https(self, settings: Settings, clock: FakeClock) -> None:
        app = create_app(settings)
        app.state.clock = clock
        with TestClient(app, base_url="https://testserver") as client:
            register(client)
            assert "Secure" in sign_in(client).headers["set-cookie"]

    def test_wrong_password_and_unknown_email_say_the_same(self, client: TestClient) -> None:
        register(client)
        wrong = sign_in(client, password="not the password")
        unknown = sign_in(client, email="nobody@example.com")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["detail"] == unknown.json()["detail"]
        assert "tessera_session" not in client.cookies

    def test_cookie_authenticates_reads_and_csrf_guards_writes(self, client: TestClient) -> None:
        register(client)
        csrf = sign_in(client).json()["csrf_token"]
        me = client.get("/v1/me")
        assert me.status_code == 200
        assert me.json()["email"] == "ada@example.com"
        assert client.get("/v1/sessions/current").json()["csrf_token"] == csrf
        r = client.post("/v1/me/api-keys", json={"name": "laptop"})
        assert r.status_code == 403
        assert "X-CSRF-Token" in r.json()["detail"]
        wrong = client.post("/v1/me/api-keys", json={"name": "x"}, headers={"X-CSRF-Token": "no"})
        assert wrong.status_code == 403
        ok = client.post("/v1/me/api-keys", json={"name": "laptop"}, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 201

    def test_bearer_requests_need_no_csrf(self, client: TestClient) -> None:
        account = register(client)
        r = client.post("/v1/me/api-keys", json={"name": "ci"}, headers=auth(account["api_key"]))
        assert r.status_code == 201

    def test_sign_out_revokes_the_session_on_the_server(self, client: TestClient) -> None:
        register(client)
        csrf = sign_in(client).json()["csrf_token"]
        cookie = client.cookies["tessera_session"]
        assert client.delete("/v1/sessions/current").status_code == 403  # CSRF here too
        r = client.delete("/v1/sessions/current", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        client.cookies.set("tessera_session", cookie)
        replay = client.get("/v1/me")
        assert replay.status_code == 401
        assert "sign in again" in replay.json()["detail"]

    def test_session_expires(self, client: TestClient, clock: FakeClock) -> None:
        register(client)
        sign_in(client)
        clock.advance(15 * 24 * 3600)
        assert client.get("/v1/me").status_code == 401


class TestThrottle:
    def test_ten_failures_per_account_then_429_with_retry_after(
        self, client: TestClient, clock: FakeClock
    ) -> None:
        register(client)
        for _ in range(10):
            assert sign_in(client, password="guess guess guess").status_code == 401
        r = sign_in(client)  # even the right password waits
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 15 * 60
        assert "try again in" in r.json()["detail"]
        clock.advance(int(r.headers["Retry-After"]))
        assert sign_in(client).status_code == 201

    def test_ten_failures_from_one_address_block_other_accounts_too(
        self, client: TestClient
    ) -> None:
        register(client)
        for i in range(10):
            sign_in(client, email=f"guess{i}@example.com")
        assert sign_in(client).status_code == 429

    def test_success_resets_the_account_count(self, client: TestClient) -> None:
        register(client)
        for _ in range(5):
            sign_in(client, password="typo typo typo")
        assert sign_in(client).status_code == 201
        register(client, email="bob@example.com")
        # The address count still holds the 5; the account count started again.
        for _ in range(4):
            assert sign_in(client, password="typo typo typo").status_code == 401
        assert sign_in(client).status_code == 201


class TestApiKeys:
    def test_named_keys_are_listed_used_and_revoked(self, client: TestClient) -> None:
        account = register(client)
        first = auth(account["api_key"])
        made = client.post("/v1/me/api-keys", json={"name": "laptop"}, headers=first).json()
        assert made["api_key"].startswith(made["prefix"])
        listed = client.get("/v1/me/api-keys", headers=first).json()["items"]
        assert [k["name"] for k in listed] == ["laptop", "default"]
        assert all("api_key" not in k for k in listed)
        second = auth(made["api_key"])
        assert client.get("/v1/me", headers=second).status_code == 200
        assert client.delete(f"/v1/me/api-keys/{made['id']}", headers=first).status_code == 204
        assert client.get("/v1/me", headers=second).status_code == 401
        assert client.delete(f"/v1/me/api-keys/{made['id']}", headers=first).status_code == 404

    def test_someone_elses_key_is_404(self, client: TestClient) -> None:
        ada = register(client)
        bob = register(client, email="bob@example.com")
        bobs = client.get("/v1/me/api-keys", headers=auth(bob["api_key"])).json()["items"][0]
        r = client.delete(f"/v1/me/api-keys/{bobs['id']}", headers=auth(ada["api_key"]))
        assert r.status_code == 404
        assert client.get("/v1/me", headers=auth(bob["api_key"])).status_code == 200


class TestSecurityHeaders:
    @pytest.mark.parametrize("path", ["/healthz", "/", "/work", "/v1/me"])
    def test_every_response_has_them(self, client: TestClient, path: str) -> None:
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"

    def test_unknown_paths_stay_404_problems(self, client: TestClient) -> None:
        r = client.get("/nothing-here")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
