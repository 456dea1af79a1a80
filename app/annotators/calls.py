"""One signed call to a requester's model server (the ``http`` kind), SSRF-guarded.

The URL is checked like an image URL before every call (``netguard``: the host must resolve to
public addresses only) and the connection is made *to the checked address*, the ``Host`` header
and TLS SNI carrying the name, so a DNS answer that changes after the check changes nothing.
Redirects are not followed. The body is JSON, signed with the model's secret in the
``Tessera-Signature`` header (``app.core.signatures``, Stripe's scheme).

Outcomes: the parsed JSON reply, or ``CallFailed`` saying whether trying again may help
(timeouts, connection errors, 429 and 5xx) or not (a refused URL, another 4xx, a redirect, a
body that is not JSON or too large).
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from app.core import signatures
from app.images import FetchFailed, ImageError, Resolver, default_resolver
from app.images.netguard import resolve_public

MAX_REPLY_BYTES = 96 * 1024 * 1024
"""The largest reply read: a segmentation mask PNG in base64 is the biggest answer there is."""
USER_AGENT = "Tessera-model-call/1"


class CallFailed(Exception):
    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason, self.transient = reason, transient


def call_model(
    url: str,
    secret: str,
    payload: dict[str, Any],
    *,
    timeout_s: float,
    timestamp: int,
    resolver: Resolver = default_resolver,
    private_hosts: bool = False,
    client: httpx.Client | None = None,
) -> Any:
    """POST ``payload`` to ``url``, signed at ``timestamp``; return the reply's parsed JSON."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signatures.HEADER: signatures.sign(secret, timestamp, body),
    }
    target, extensions = _target(url, headers, resolver, private_hosts)
    # trust_env=False: an HTTP(S)_PROXY from the environment must not re-route pinned requests.
    http = client or httpx.Client(trust_env=False, follow_redirects=False)
    deadline = time.monotonic() + timeout_s
    try:
        with http.stream(
            "POST",
            target,
            content=body,
            headers=headers,
            extensions=extensions,
            timeout=timeout_s,
            follow_redirects=False,
        ) as response:
            _check_status(response)
            reply = _read(response, deadline, timeout_s)
    except httpx.TimeoutException:
        raise CallFailed(f"no answer within {timeout_s:g} s", transient=True) from None
    except httpx.HTTPError as exc:
        raise CallFailed(f"the call failed ({type(exc).__name__})", transient=True) from None
    finally:
        if client is None:
            http.close()
    try:
        return json.loads(reply)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CallFailed("the reply is not JSON", transient=False) from None


def _target(
    url: str, headers: dict[str, str], resolver: Resolver, private_hosts: bool
) -> tuple[httpx.URL, dict[str, str]]:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise CallFailed("the model URL is not valid", transient=False) from None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host or parsed.userinfo:
        raise CallFailed("the model URL is not an http(s) URL with a host", transient=False)
    if private_hosts:
        return parsed, {}
    host = parsed.raw_host.decode("ascii")
    try:
        address = resolve_public(host, resolver)
    except ImageError as exc:
        # A name that no longer resolves may come back; a private address will not.
        raise CallFailed(
            f"model URL: {exc.detail}", transient=isinstance(exc, FetchFailed)
        ) from None
    headers["Host"] = parsed.netloc.decode("ascii")
    extensions = {"sni_hostname": host} if parsed.scheme == "https" and host != str(address) else {}
    return parsed.copy_with(host=str(address)), extensions


def _check_status(response: httpx.Response) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    transient = code == 429 or code >= 500
    what = "a redirect (not followed)" if 300 <= code < 400 else f"HTTP {code}"
    raise CallFailed(f"the model server answered {what}", transient=transient)


def _read(response: httpx.Response, deadline: float, timeout_s: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
        raise CallFailed(f"the reply is larger than {MAX_REPLY_BYTES:,} bytes", transient=False)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_REPLY_BYTES:
            raise CallFailed(f"the reply is larger than {MAX_REPLY_BYTES:,} bytes", transient=False)
        if time.monotonic() > deadline:
            raise CallFailed(f"no whole answer within {timeout_s:g} s", transient=True)
    return bytes(body)
