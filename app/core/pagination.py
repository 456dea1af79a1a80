"""Cursor pagination: ``?limit=`` (default 50, max 500) and an opaque ``?cursor=``.

The cursor is the last item's ID (IDs sort by creation): clients treat it as opaque, and the
schema says its exact form, so a well-formed cursor is never refused (it is a position).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from app.core.errors import InvalidCursor


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: str | None


CURSOR_PATTERN = r"^[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}$"
"""A cursor is the last item's ID (``prj_`` + 26 Crockford base32 characters)."""
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(last_id: str) -> str:
    return last_id


def decode_cursor(cursor: str) -> str:
    if not _CURSOR.fullmatch(cursor):
        raise InvalidCursor()
    return cursor


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            pattern=CURSOR_PATTERN,
            description="The `next_cursor` of the previous page; any item ID works as a position.",
        ),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


def next_cursor(ids: list[str], limit: int) -> str | None:
    """Fetch ``limit + 1`` rows; if the extra one came back there is a next page."""
    return encode_cursor(ids[limit - 1]) if len(ids) > limit else None
