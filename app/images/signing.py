"""Signed, expiring image URLs: ``/v1/images/{id}?v=<viewer>&exp=<unix>&sig=<hmac>``.

The signature is an HMAC-SHA256 over the image id, the viewer's account id and the expiry, with a
server secret, so a URL cannot be moved to another image, viewer or time. An ``<img>`` tag sends
no ``Authorization`` header: the URL itself is the proof, like an object store's presigned URL,
and an image store that has its own presigned URLs hands those out from ``url_for`` instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

REQUESTER_URL_LIFETIME = timedelta(hours=1)
_BUCKET_S = 600


@dataclass(frozen=True)
class UrlSigner:
    secret: bytes

    def signature(self, image_id: str, viewer_id: str, expires: int) -> str:
        message = f"tessera-image\n{image_id}\n{viewer_id}\n{expires}".encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def query(self, image_id: str, viewer_id: str, expires_at: datetime) -> str:
        # Rounded down to the second: never valid a moment longer than asked.
        expires = math.floor(expires_at.timestamp())
        return urlencode(
            {"v": viewer_id, "exp": expires, "sig": self.signature(image_id, viewer_id, expires)}
        )

    def is_valid(
        self, image_id: str, viewer_id: str, expires: int, signature: str, *, now: datetime
    ) -> bool:
        if expires <= now.timestamp():
            return False
        expected = self.signature(image_id, viewer_id, expires)
        return hmac.compare_digest(expected.encode(), signature.encode())


def requester_expiry(now: datetime) -> datetime:
    """At most an hour from now, on a 10-minute grid so that the URLs of one result page stay
    the same for a while (the browser cache keeps working across reloads)."""
    latest = now + REQUESTER_URL_LIFETIME
    return datetime.fromtimestamp(
        (math.floor(latest.timestamp()) // _BUCKET_S) * _BUCKET_S, tz=latest.tzinfo
    )
