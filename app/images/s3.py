"""Images in an S3-compatible object store: ``TESSERA_IMAGE_STORE=s3://bucket/prefix``.

Content-addressed like the local store (the key is ``<prefix>/ab/cd/<sha256>``, so the same
bytes are stored once), and the browser and API clients get **presigned GET URLs** that expire
when our own signed URL would: image bytes go from the store to the browser and never through
``serve``. The endpoint, region and credentials come from the usual AWS settings
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION`` or
``AWS_DEFAULT_REGION``, profiles, instance roles …), read by boto3 itself.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from app.images.errors import ImageNotFound, ImageStoreFull, ImageStoreUnavailable
from app.images.inspect import sniff_media_type
from app.images.store import ImageRef, validate_sha256

__all__ = ["MAX_PRESIGN_SECONDS", "S3ImageStore", "parse_s3_url"]

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit for a presigned URL


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``; ValueError if it is not one."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"an object store is s3://bucket[/prefix], not {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3ImageStore:
    """Objects ``<prefix>/ab/cd/<sha256>`` in ``bucket``, with their media type as Content-Type.

    ``client`` is a boto3 S3 client (``boto3.client("s3")`` when not given, configured from the
    environment). The bucket must exist; it stays private (the URLs are presigned).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if client is None:
            import boto3  # imported here: the local default needs no AWS SDK at start-up
            from botocore.config import Config

            # SigV4 presigned URLs (X-Amz-Expires): the expiry is in the signed URL itself.
            client = boto3.client("s3", config=Config(signature_version="s3v4"))
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client
        self.clock = clock

    @classmethod
    def from_url(
        cls, url: str, client: Any = None, *, clock: Callable[[], datetime] | None = None
    ) -> S3ImageStore:
        bucket, prefix = parse_s3_url(url)
        return cls(bucket, prefix, client, clock=clock)

    def key(self, sha256: str) -> str:
        digest = validate_sha256(sha256)
        name = f"{digest[:2]}/{digest[2:4]}/{digest}"
        return f"{self.prefix}/{name}" if self.prefix else name

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the presigned URLs (the web app's CSP allows it)."""
        url = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key("0" * 64)}, ExpiresIn=60
        )
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        with _translated("HEAD"):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
            except ClientError as exc:
                if _status(exc) == 404:
                    return False
                raise
        return True

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        with _translated("GET"):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
            except ClientError as exc:
                if _status(exc) == 404:
                    raise ImageNotFound(sha256) from None
                raise
            body = response["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def put(self, data: bytes) -> str:
        """Store ``data`` under its sha256; a no-op (one HEAD) when those bytes are there.

        An object PUT is atomic (readers see the whole object or none), and two processes
        storing the same image write the same bytes, so a race is harmless.
        """
        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):
            return digest
        with _translated("PUT"):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(digest),
                Body=data,
                ContentType=sniff_media_type(data[:16]) or "application/octet-stream",
                ChecksumSHA256=_b64_sha256(data),
            )
        return digest

    def url_for(
        self, image: ImageRef, *, viewer_id: str, expires_at: datetime, base_url: str
    ) -> str:
        """A presigned GET URL valid until ``expires_at`` (rounded down to the second, as our
        signed URLs are; at least 1 s, at most SigV4's 7 days). The lifetime is counted from the
        app's clock (``clock``), the signature stamped with the real time by boto3."""
        now = self.clock().timestamp() if self.clock is not None else time.time()
        seconds = math.floor(expires_at.timestamp() - now)
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.key(image.sha256)},
                ExpiresIn=max(1, min(seconds, MAX_PRESIGN_SECONDS)),
            )
        )


_FULL_CODES = frozenset(
    {
        "QuotaExceeded",  # Ceph RGW: user or bucket quota
        "XMinioStorageFull",  # MinIO: the drives are full (507)
        "XMinioAdminBucketQuotaExceeded",  # MinIO: bucket quota
        "InsufficientStorage",
        "StorageFull",
    }
)
_UNAVAILABLE_CODES = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "RequestTimeout",
        "InternalError",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    """The store's failures as the image package's own errors: full (quota, no space: the app
    answers 507) or unavailable (unreachable, timed out, throttling or a 5xx after boto3's own
    retries: 503 with Retry-After). Anything else (a 403 for bad credentials, a missing bucket)
    is a configuration error and stays as it is."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        yield
    except ClientError as exc:
        code, status = str(exc.response.get("Error", {}).get("Code", "")), _status(exc)
        if code in _FULL_CODES or status == 507:
            raise ImageStoreFull(
                errno.ENOSPC, f"the object store is full ({code or status})"
            ) from exc
        if code in _UNAVAILABLE_CODES or status >= 500:
            raise ImageStoreUnavailable(
                f"the object store failed a {what} ({code or status})"
            ) from exc
        raise
    except (BotoConnectionError, HTTPClientError) as exc:
        raise ImageStoreUnavailable(f"the object store did not answer a {what}: {exc}") from exc


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _b64_sha256(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode()
