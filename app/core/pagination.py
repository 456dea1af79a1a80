"""Cursor pagination: ``?limit=`` (default 50, max 500) and an opaque ``?cursor=``.

The cursor is the last item's ID (IDs sort by creation), base64-encoded so clients treat it as
opaque and we can change what it holds.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from app.core.errors import Unprocessable


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw or "_" not in raw or len(raw) > 40:
        raise Unprocessable(
            "cursor is not valid", errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
        )
    return raw


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


def next_cursor(ids: list[str], limit: int) -> str | None:
    """Fetch ``limit + 1`` rows; if the extra one came back there is a next page."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None
