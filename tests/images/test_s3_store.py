"""Images in an S3-compatible object store, against moto's standalone S3 server over HTTP.

The server (``moto.server.ThreadedMotoServer``) is started by the tests on a free port of
127.0.0.1 and spoken to through boto3 and plain httpx, as a real object store would be.
"""

from __future__ import annotations

import hashlib
import io
import socket
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from app.core.config import Settings
from app.images import ImageNotFound, ImageStore
from app.images.s3 import S3ImageStore, parse_s3_url
from app.images.store import LocalImageStore, open_image_store
from app.main import create_app
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup
from tests.images.factory import make_image

PNG = make_image("PNG")
SHA = hashlib.sha256(PNG).hexdigest()
BUCKET = "tessera-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The usual AWS variables pointing boto3 at the test server, and an empty bucket."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    s3 = boto3.client("s3")
    existing = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    if BUCKET in existing:
        for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    else:
        s3.create_bucket(Bucket=BUCKET)
    return s3_endpoint


def _keys() -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _signed_end(url: str) -> float:
    """When a SigV4 presigned URL stops working: its signing time plus its lifetime."""
    q = _query(url)
    signed = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed.timestamp() + int(q["X-Amz-Expires"])


class _Image:
    def __init__(self, sha256: str) -> None:
        self.id, self.sha256 = "img_test", sha256


class TestS3ImageStore:
    def test_parses_the_setting(self) -> None:
        assert parse_s3_url("s3://bucket/a/b/") == ("bucket", "a/b")
        assert parse_s3_url("s3://bucket") == ("bucket", "")
        for bad in ("http://bucket/x", "s3:///x", "s3://bucket/x?y=1", "bucket/x"):
            with pytest.raises(ValueError, match="s3://bucket"):
                parse_s3_url(bad)

    def test_opens_the_configured_store(self, aws_env: str, tmp_path: Path) -> None:
        assert isinstance(open_image_store("", images_dir=tmp_path), LocalImageStore)
        store = open_image_store(f"s3://{BUCKET}/imgs", images_dir=tmp_path)
        assert isinstance(store, S3ImageStore)
        assert isinstance(store, ImageStore)
        assert (store.bucket, store.prefix) == (BUCKET, "imgs")

    def test_put_is_content_addressed_and_dedupes(self, aws_env: str) -> None:
        store = S3ImageStore.from_url(f"s3://{BUCKET}/imgs")
        assert not store.exists(SHA)
        assert store.put(PNG) == SHA
        assert store.put(PNG) == SHA  # the same bytes again: no second object
        assert _keys() == [f"imgs/{SHA[:2]}/{SHA[2:4]}/{SHA}"]
        assert store.exists(SHA)
        assert store.get(SHA) == PNG
        head = boto3.client("s3").head_object(Bucket=BUCKET, Key=_keys()[0])
        assert head["ContentType"] == "image/png"

    def test_missing_and_malformed_digests(self, aws_env: str) -> None:
        store = S3ImageStore.from_url(f"s3://{BUCKET}")
        with pytest.raises(ImageNotFound):
            store.get("0" * 64)
        with pytest.raises(ValueError, match="64 lowercase"):
            store.get("../" + SHA[3:])

    def test_presigned_url_works_without_credentials_and_ends_at_the_expiry(
        self, aws_env: str
    ) -> None:
        store = S3ImageStore.from_url(f"s3://{BUCKET}/p")
        store.put(PNG)
        expires_at = datetime.now(UTC) + timedelta(seconds=90)
        url = store.url_for(
            _Image(SHA), viewer_id="acc_x", expires_at=expires_at, base_url="http://api"
        )
        assert url.startswith(f"{aws_env}/{BUCKET}/p/")
        r = httpx.get(url)  # plain HTTP, no AWS credentials
        assert r.status_code == 200
        assert r.content == PNG
        assert r.headers["content-type"] == "image/png"
        # S3 refuses a SigV4 URL after X-Amz-Date + X-Amz-Expires (moto's server does not check
        # that, so the test checks what is signed): it ends with our expiry, never after it
        # (both the signing time and the lifetime are whole seconds, rounded down).
        assert expires_at.timestamp() - 2 <= _signed_end(url) <= expires_at.timestamp()

    def test_presigned_lifetime_counts_on_the_apps_clock(self, aws_env: str) -> None:
        fake_now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        store = S3ImageStore.from_url(f"s3://{BUCKET}", clock=lambda: fake_now)
        url = store.url_for(
            _Image(SHA),
            viewer_id="acc_x",
            expires_at=fake_now + timedelta(seconds=600),
            base_url="",
        )
        assert "X-Amz-Expires=600" in url

    def test_origin_is_the_endpoint(self, aws_env: str) -> None:
        assert S3ImageStore.from_url(f"s3://{BUCKET}").origin == aws_env


@pytest.fixture
def s3_client(
    aws_env: str,  # noqa: ARG001  (the AWS variables and the bucket the app opens)
    settings: Settings,
    clock: FakeClock,
) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"image_store": f"s3://{BUCKET}/tessera"}))
    app.state.clock = clock
    with TestClient(app) as client:
        yield client


def _lease(client: TestClient) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    requester, worker = signup(client, "requester"), signup(client, "worker")
    project = make_project(client, requester, assignment_duration_s=600)
    batch = open_batch(client, requester, project["id"], n_images=2)
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    assert lease.status_code == 201, lease.text
    return requester, worker, {"batch": batch, "lease": lease.json()}


class TestServeWithS3:
    def test_uploads_land_in_the_bucket_and_leases_carry_presigned_urls(
        self, s3_client: TestClient, aws_env: str, clock: FakeClock, settings: Settings
    ) -> None:
        _requester, _worker, made = _lease(s3_client)
        keys = _keys()
        assert len(keys) == 2
        assert all(k.startswith("tessera/") for k in keys)
        assert not (settings.data_dir / "images").exists()  # nothing on the local disk
        url = made["lease"]["task"]["image_url"]
        assert url.startswith(f"{aws_env}/{BUCKET}/tessera/")
        assert int(_query(url)["X-Amz-Expires"]) == 600  # the lease's 600 s, on the app's clock
        r = httpx.get(url)  # what the browser does: no header, not through serve
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() in {k.rsplit("/", 1)[1] for k in keys}

    def test_same_bytes_twice_are_one_object(self, s3_client: TestClient) -> None:
        requester = signup(s3_client, "requester")
        project = make_project(s3_client, requester)
        open_batch(s3_client, requester, project["id"], n_images=2)
        open_batch(s3_client, requester, project["id"], n_images=2)  # the same two images
        assert len(_keys()) == 2

    def test_image_endpoint_redirects_and_thumbnails_read_through_the_store(
        self, s3_client: TestClient, aws_env: str
    ) -> None:
        requester, _worker, made = _lease(s3_client)
        results = s3_client.get(f"/v1/batches/{made['batch']['id']}/results", headers=requester)
        item = results.json()["items"][0]
        assert item["image_url"].startswith(aws_env)
        image_path = urlsplit(item["thumbnail_url"]).path  # /v1/images/{id}
        r = s3_client.get(image_path, headers=requester, follow_redirects=False)  # header form
        assert r.status_code == 307
        assert r.headers["location"].startswith(f"{aws_env}/{BUCKET}/tessera/")
        assert httpx.get(r.headers["location"]).status_code == 200
        thumb = s3_client.get(item["thumbnail_url"])  # made by the API from the store's bytes
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/webp"

    def test_an_expired_signed_url_redirects_nowhere(
        self, s3_client: TestClient, clock: FakeClock
    ) -> None:
        requester, _worker, made = _lease(s3_client)
        results = s3_client.get(f"/v1/batches/{made['batch']['id']}/results", headers=requester)
        signed = results.json()["items"][0]["thumbnail_url"].replace("&w=256", "")
        assert s3_client.get(signed, follow_redirects=False).status_code == 307
        clock.advance(3601)
        assert s3_client.get(signed, follow_redirects=False).status_code == 404

    def test_csp_allows_the_store(self, s3_client: TestClient, aws_env: str) -> None:
        csp = s3_client.get("/healthz").headers["content-security-policy"]
        img_src = next(d for d in csp.split("; ") if d.startswith("img-src"))
        assert aws_env in img_src.split()
        assert "connect-src 'self';" in csp  # only images may come from the store


def test_exports_read_the_images_from_the_store(s3_client: TestClient) -> None:
    requester = signup(s3_client, "requester")
    project = make_project(s3_client, requester)
    batch = open_batch(s3_client, requester, project["id"], n_images=2)
    stored = {k.rsplit("/", 1)[1] for k in _keys()}
    r = s3_client.get(f"/v1/batches/{batch['id']}/images.zip", headers=requester)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        images = [n for n in archive.namelist() if n.endswith(".png")]
        digests = {hashlib.sha256(archive.read(n)).hexdigest() for n in images}
    assert len(images) == 2
    assert digests == stored


# --- The store fails: full (507), unavailable (503 with Retry-After), nothing half-stored ----


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _s3_error(status: int, code: str) -> Any:
    """A ``before-send`` handler answering every request it sees as the store would fail it
    (boto3 parses the XML error and retries 5xx itself, as with a real store)."""
    from botocore.awsrequest import AWSResponse

    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{code}</Message><RequestId>t</RequestId></Error>"
    ).encode()

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, _Raw(body))

    return answer


def _failing(client: Any, operation: str, status: int, code: str) -> Any:
    handler = _s3_error(status, code)
    client.meta.events.register(f"before-send.s3.{operation}", handler)
    return handler


class TestStoreFailures:
    @pytest.mark.parametrize(
        ("status", "code"),
        [(507, "XMinioStorageFull"), (403, "QuotaExceeded"), (507, "InsufficientStorage")],
    )
    def test_a_full_store_is_image_store_full(self, aws_env: str, status: int, code: str) -> None:
        from app.images import ImageStoreFull

        store = S3ImageStore(BUCKET, "p")
        _failing(store.client, "PutObject", status, code)
        with pytest.raises(ImageStoreFull):
            store.put(PNG)
        assert _keys() == []

    @pytest.mark.parametrize(
        ("operation", "status", "code"),
        [
            ("PutObject", 503, "SlowDown"),
            ("PutObject", 500, "InternalError"),
            ("GetObject", 503, "ServiceUnavailable"),
        ],
    )
    def test_a_failing_store_is_unavailable(
        self, aws_env: str, operation: str, status: int, code: str
    ) -> None:
        from botocore.config import Config

        from app.images import ImageStoreUnavailable

        client = boto3.client("s3", config=Config(retries={"max_attempts": 2, "mode": "standard"}))
        store = S3ImageStore(BUCKET, "p", client)
        if operation == "GetObject":
            store.put(PNG)
        _failing(client, operation, status, code)
        with pytest.raises(ImageStoreUnavailable):
            store.put(PNG) if operation == "PutObject" else store.get(SHA)

    def test_an_unreachable_store_is_unavailable(self, aws_env: str) -> None:
        from botocore.config import Config

        from app.images import ImageStoreUnavailable

        config = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{_free_port()}", config=config)
        store = S3ImageStore(BUCKET, "p", client)
        for call in (lambda: store.put(PNG), lambda: store.get(SHA), lambda: store.exists(SHA)):
            with pytest.raises(ImageStoreUnavailable):
                call()

    def test_a_denied_request_is_not_called_full_or_unavailable(self, aws_env: str) -> None:
        from botocore.exceptions import ClientError

        store = S3ImageStore(BUCKET, "p")
        _failing(store.client, "PutObject", 403, "AccessDenied")
        with pytest.raises(ClientError):
            store.put(PNG)


def _upload(client: TestClient, requester: dict[str, str], project_id: str, **headers: str) -> Any:
    files = [
        ("files", (f"i{i}.png", make_image("PNG", size=(40 + i, 30)), "image/png"))
        for i in range(3)
    ]
    return client.post(
        f"/v1/projects/{project_id}/batches", files=files, headers={**requester, **headers}
    )


def _batches(client: TestClient, requester: dict[str, str], project_id: str) -> list[Any]:
    r = client.get(f"/v1/projects/{project_id}/batches", headers=requester)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


class TestServeWithAFailingStore:
    def test_a_full_store_is_507_and_keeps_nothing(self, s3_client: TestClient) -> None:
        requester = signup(s3_client, "requester")
        project = make_project(s3_client, requester)
        store = s3_client.app.state.image_store  # type: ignore[attr-defined]
        handler = _failing(store.client, "PutObject", 507, "XMinioStorageFull")
        r = _upload(s3_client, requester, project["id"], **{"Idempotency-Key": "up-1"})
        assert r.status_code == 507, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/insufficient-storage")
        assert _batches(s3_client, requester, project["id"]) == []
        assert _keys() == []
        gold = s3_client.post(
            f"/v1/projects/{project['id']}/gold",
            files={"file": ("g.png", PNG, "image/png")},
            data={"answer": '{"label": "cat"}'},
            headers=requester,
        )
        assert gold.status_code == 507, gold.text

        # Space again: the retry with the same key does the upload (a 5xx is not a stored answer).
        store.client.meta.events.unregister("before-send.s3.PutObject", handler)
        r = _upload(s3_client, requester, project["id"], **{"Idempotency-Key": "up-1"})
        assert r.status_code == 201, r.text
        assert len(_keys()) == 3

    def test_an_unavailable_store_is_503_with_retry_after_and_keeps_nothing(
        self, s3_client: TestClient
    ) -> None:
        requester = signup(s3_client, "requester")
        project = make_project(s3_client, requester)
        store = s3_client.app.state.image_store  # type: ignore[attr-defined]
        _failing(store.client, "PutObject", 503, "SlowDown")
        r = _upload(s3_client, requester, project["id"])
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["Retry-After"]) > 0
        assert r.json()["type"].endswith("/storage-unavailable")
        assert _batches(s3_client, requester, project["id"]) == []
        assert _keys() == []

    def test_a_thumbnail_from_an_unavailable_store_is_503(self, s3_client: TestClient) -> None:
        requester, _worker, made = _lease(s3_client)
        results = s3_client.get(f"/v1/batches/{made['batch']['id']}/results", headers=requester)
        store = s3_client.app.state.image_store  # type: ignore[attr-defined]
        _failing(store.client, "GetObject", 503, "SlowDown")
        thumb = s3_client.get(results.json()["items"][0]["thumbnail_url"])
        assert thumb.status_code == 503, thumb.text
        assert "Retry-After" in thumb.headers
