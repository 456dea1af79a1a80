"""Which hosts a URL fetch may reach: public unicast addresses only (SSRF defence).

A URL's host is either an IP literal (checked directly), a numeric IPv4 form that C resolvers
accept (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``; parsed here the way inet_aton
does, so the verdict never depends on the resolver), or a name, whose every resolved address
must be public: one private answer among public ones is enough to refuse, since the
connection could be steered to it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable

from app.images.errors import FetchFailed, UnsafeURL

__all__ = ["IPAddress", "Resolver", "default_resolver", "is_public", "resolve_public"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], list[str]]
"""Maps a host name to the IP address strings it resolves to."""

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


def default_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the system resolver (``socket.getaddrinfo``)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise FetchFailed(f"the host {host!r} could not be resolved") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(addr: IPAddress) -> bool:
    """True only for global unicast addresses, looking inside IPv6 forms that embed IPv4."""
    if (
        not addr.is_global
        or addr.is_multicast
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_unspecified
    ):
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        return all(is_public(inner) for inner in _embedded_ipv4(addr))
    return True


def resolve_public(host: str, resolver: Resolver) -> IPAddress:
    """Return the address to connect to for ``host``, or raise UnsafeURL/FetchFailed.

    ``host`` is the URL's host as ASCII (IDNA already applied, IPv6 without brackets).
    """
    literal = _parse_literal(host)
    if literal is not None:
        if not is_public(literal):
            raise UnsafeURL(f"the address {host} is not a public internet address")
        return literal
    try:
        answers = resolver(host)
    except FetchFailed:
        raise
    except (OSError, UnicodeError, ValueError):
        raise FetchFailed(f"the host {host!r} could not be resolved") from None
    if not answers:
        raise FetchFailed(f"the host {host!r} did not resolve to any address")
    addresses = [_parse_answer(host, answer) for answer in answers]
    if not all(is_public(addr) for addr in addresses):
        # Do not echo the internal address back to the requester.
        raise UnsafeURL(f"the host {host!r} resolves to a non-public address")
    return addresses[0]


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a packet to ``addr`` may actually reach (mapped, 6to4, Teredo, NAT64)."""
    found = []
    if addr.ipv4_mapped is not None:
        found.append(addr.ipv4_mapped)
    if addr.sixtofour is not None:
        found.append(addr.sixtofour)
    if addr.teredo is not None:
        found.extend(addr.teredo)
    if addr in _NAT64:
        found.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return found


def _parse_answer(host: str, answer: str) -> IPAddress:
    try:
        return ipaddress.ip_address(answer.split("%", 1)[0])
    except ValueError:
        raise FetchFailed(f"the host {host!r} resolved to an invalid address") from None


def _parse_literal(host: str) -> IPAddress | None:
    """An IP if ``host`` is one in any form a resolver would accept, else None (a name)."""
    bare = host.split("%", 1)[0]  # httpx keeps an IPv6 zone id ("fe80::1%25eth0")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    # As in the WHATWG URL standard: a host whose last label is numeric is an IPv4 address,
    # never a name; if it does not parse as one it is refused rather than sent to DNS.
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    value = _inet_aton(labels)
    if value is None:
        raise UnsafeURL(f"the host {host!r} is a malformed numeric address")
    return ipaddress.IPv4Address(value)


def _inet_aton(labels: list[str]) -> int | None:
    """inet_aton's forms: 1-4 parts, each decimal, 0-octal or 0x-hex; the last fills the rest."""
    if not 1 <= len(labels) <= 4 or not all(_NUMERIC_LABEL.fullmatch(p) for p in labels):
        return None
    try:
        parts = [_number(p) for p in labels]
    except ValueError:
        return None
    *head, last = parts
    if any(p > 0xFF for p in head) or last >= 1 << (8 * (5 - len(parts))):
        return None
    value = last
    for i, part in enumerate(head):
        value |= part << (8 * (3 - i))
    return value


def _number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)
