"""Download an image from a requester-supplied URL without letting the URL reach inside.

Every hop (the URL and each redirect target) is parsed, its host resolved once, every address
checked (``netguard``), and the connection then made *to that checked address*: the request
URL carries the IP, while the ``Host`` header and TLS SNI (httpcore's ``sni_hostname``
extension, also used for certificate verification) carry the name. A DNS answer that changes
between the check and the connect (rebinding) therefore changes nothing.

Residual risks, accepted: a caller-supplied ``client`` with a proxy sends the request via that
proxy (which connects to the checked IP); a keep-alive connection in a caller-supplied client
may be reused for another name on the same IP (same checked address, so not an SSRF hole).
"""

from __future__ import annotations

import time

import httpx

from app.images.errors import FetchFailed, ImageTooLarge, UnsafeURL
from app.images.limits import ImageLimits
from app.images.netguard import IPAddress, Resolver, default_resolver, resolve_public

__all__ = ["check_url", "fetch_image", "parse_url"]

_DEFAULT_LIMITS = ImageLimits()
_MAX_URL_LENGTH = 2048
_CHUNK = 64 * 1024
_HEADERS = {
    "Accept": "image/jpeg, image/png, image/webp",
    # Identity only: a gzip/brotli body could expand a 64 KiB chunk into a huge one before the
    # size cap sees it, and images gain nothing from transfer compression.
    "Accept-Encoding": "identity",
    "User-Agent": "Tessera-image-fetch/1",
}


def fetch_image(
    url: str,
    limits: ImageLimits = _DEFAULT_LIMITS,
    *,
    client: httpx.Client | None = None,
    resolver: Resolver = default_resolver,
) -> bytes:
    """Download the bytes at ``url`` (http/https only), following at most
    ``limits.url_max_redirects`` redirects, each re-checked.

    Raises UnsafeURL (422) for another scheme, a malformed URL, credentials in the URL, or a
    host that is or resolves to any non-public address; ImageTooLarge (413) past
    ``limits.max_file_bytes``; FetchFailed (422) for DNS, connection or TLS errors, a non-2xx
    answer, too many redirects, or time out. ``url_timeout_s`` bounds each network operation
    and the whole fetch (checked between chunks, so a fetch ends within about twice that).
    The bytes are not inspected: pass them to ``inspect_image``.
    """
    deadline = time.monotonic() + limits.url_timeout_s
    current = _parse(url)
    # trust_env=False: an HTTP(S)_PROXY from the environment must not re-route pinned requests.
    http = client or httpx.Client(trust_env=False, follow_redirects=False)
    try:
        for _ in range(limits.url_max_redirects + 1):
            outcome = _get(http, current, limits, resolver, deadline)
            if isinstance(outcome, bytes):
                return outcome
            current = outcome
        raise FetchFailed(f"more than {limits.url_max_redirects} redirects")
    finally:
        if client is None:
            http.close()


def check_url(url: str, *, resolver: Resolver = default_resolver) -> None:
    """Refuse at once a URL that ``fetch_image`` would refuse before connecting: the scheme, the
    form, and a host that is or resolves to a non-public address (UnsafeURL); a name that does
    not resolve is FetchFailed. The download itself may come later (the fetch reconciler)."""
    parsed = _parse(url)
    resolve_public(parsed.host, resolver)


def parse_url(url: str | httpx.URL) -> httpx.URL:
    """Parse and vet the form of a URL (scheme, host, no credentials, length), not its host's
    addresses: UnsafeURL when it would be refused."""
    return _parse(url)


def _parse(url: str | httpx.URL) -> httpx.URL:
    """Parse and vet one URL (the original or a redirect target)."""
    if len(str(url)) > _MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {_MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise UnsafeURL("not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURL(f"only http and https URLs are fetched, not {parsed.scheme or 'this'}")
    if not parsed.raw_host:
        raise UnsafeURL("the URL has no host")
    if parsed.userinfo:
        raise UnsafeURL("URLs with credentials (user:password@) are not fetched")
    return parsed


def _get(
    http: httpx.Client, url: httpx.URL, limits: ImageLimits, resolver: Resolver, deadline: float
) -> bytes | httpx.URL:
    """One hop: the body if it is a 2xx answer, the next URL if it is a redirect."""
    address = resolve_public(url.raw_host.decode("ascii"), resolver)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchFailed(f"the download took longer than {limits.url_timeout_s:g} s")
    target, headers, extensions = _pinned(url, address)
    try:
        with http.stream(
            "GET",
            target,
            headers=headers,
            extensions=extensions,
            timeout=remaining,
            follow_redirects=False,
        ) as response:
            if response.has_redirect_location:
                return _redirect_target(url, response)
            if not response.is_success:
                raise FetchFailed(f"the image server answered HTTP {response.status_code}")
            return _read_body(response, limits, deadline)
    except httpx.TimeoutException:
        raise FetchFailed(f"the download took longer than {limits.url_timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"the download failed ({type(exc).__name__})") from None


def _pinned(url: httpx.URL, address: IPAddress) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The request aimed at ``address`` while still speaking to the URL's host by name."""
    host = url.raw_host.decode("ascii")
    headers = {**_HEADERS, "Host": url.netloc.decode("ascii")}
    extensions: dict[str, str] = {}
    if url.scheme == "https" and host != str(address):
        extensions["sni_hostname"] = host
    return url.copy_with(host=str(address)), headers, extensions


def _redirect_target(url: httpx.URL, response: httpx.Response) -> httpx.URL:
    # Resolve relative locations against the URL as the user wrote it (by name), not the
    # pinned IP URL, so the next hop is checked and pinned afresh.
    try:
        return _parse(url.join(response.headers["Location"]))
    except httpx.InvalidURL:
        raise UnsafeURL("the server redirected to an invalid URL") from None


def _read_body(response: httpx.Response, limits: ImageLimits, deadline: float) -> bytes:
    """Stream the raw body, stopping at the byte cap and the overall deadline."""
    cap = limits.max_file_bytes
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise FetchFailed(f"the image server sent a {encoding!r}-encoded body; expected identity")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ImageTooLarge(f"the image is {int(declared):,} bytes; the limit is {cap:,} bytes")
    body = bytearray()
    # iter_bytes, not iter_raw: with the encoding pinned to identity above they yield the same
    # bytes, and iter_bytes also works on responses whose body was read eagerly (test doubles).
    for chunk in response.iter_bytes():  # as they arrive; a chunk_size would buffer first
        body += chunk
        if len(body) > cap:
            raise ImageTooLarge(f"the image is larger than the limit of {cap:,} bytes")
        if time.monotonic() > deadline:
            raise FetchFailed(f"the download took longer than {limits.url_timeout_s:g} s")
    return bytes(body)
