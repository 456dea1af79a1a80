"""Errors raised by answer validation.

    Exception
     └── AnswerInvalid   an answer does not match the project's annotation spec
    Unprocessable (422)
     └── AnswerRefused   an AnswerInvalid as the request's problem, located in its body

Spec errors are plain pydantic ``ValidationError``s raised by ``AnnotationSpec``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.annotations.limits import MAX_ERRORS
from app.core.errors import Unprocessable

__all__ = ["AnswerInvalid", "AnswerRefused", "ErrorList", "Loc"]

Loc = list[str | int]
"""A location inside the request body, pydantic style: ``["answer", "objects", 2, "box"]``."""


class AnswerInvalid(Exception):
    """An answer does not match the project's annotation spec.

    Attributes:
        errors: ``[{"loc": [...], "msg": str}]``, locations starting at ``"answer"``; ready to
            be rendered as the ``errors`` member of a problem details body.
        detail: one short human sentence summarising the errors.
    """

    def __init__(self, errors: list[dict[str, Any]], *, detail: str | None = None) -> None:
        if not errors:
            raise ValueError("AnswerInvalid needs at least one error")
        self.errors = errors
        self.detail = detail or _summarise(errors)
        super().__init__(self.detail)


class AnswerRefused(Unprocessable):
    """An invalid answer sent in a request: its errors are placed where the answer sits in the
    body (``at``, e.g. ``["body"]`` for a submit, ``["body", "pre_annotations", name]``), which
    replaces the ``"answer"`` that every ``AnswerInvalid`` location starts with."""

    def __init__(
        self, invalid: AnswerInvalid, at: Sequence[str | int], *, detail: str | None = None
    ) -> None:
        errors = [{"loc": [*at, *e["loc"][1:]], "msg": e["msg"]} for e in invalid.errors]
        super().__init__(detail or invalid.detail, errors=errors)


def _summarise(errors: list[dict[str, Any]], total: int | None = None) -> str:
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    others = (total or len(errors)) - 1
    more = f" (and {others} more)" if others else ""
    return f"invalid answer: {where}: {first['msg']}{more}"


class ErrorList:
    """Collects errors while an answer is walked, so one response reports them all (up to a cap)."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self._limit = limit
        self._errors: list[dict[str, Any]] = []
        self._dropped = 0

    def add(self, loc: Loc, msg: str) -> None:
        """Record an error at ``loc``; errors past the cap are counted, not kept."""
        if len(self._errors) < self._limit:
            self._errors.append({"loc": list(loc), "msg": msg})
        else:
            self._dropped += 1

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        """Raise ``AnswerInvalid`` with everything collected, if anything was."""
        if not self._errors:
            return
        # The detail counts every error, the list keeps only the first MAX_ERRORS.
        detail = _summarise(self._errors, total=len(self._errors) + self._dropped)
        raise AnswerInvalid(list(self._errors), detail=detail)
