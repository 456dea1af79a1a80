"""``Requester``, ``Worker``, ``Operator``, ``AnyAccount``: the caller, checked for its role.

A caller proves who it is with ``Authorization: Bearer <api_key>`` (scripts) or with the session
cookie (the browser). A cookie-authenticated request that changes state must also carry the
session's CSRF token in ``X-CSRF-Token``: another site can make the browser send the cookie, but
it cannot read the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.errors import (
    ApiKeyNotValid,
    CsrfTokenMissing,
    NotSignedIn,
    SessionEnded,
    WrongRole,
)
from app.core.deps import Now, SessionDep
from app.core.errors import Forbidden, ServiceUnavailable, Unauthorized
from app.core.openapi import raises
from app.models import Account, Role, WebSession

SESSION_COOKIE = "tessera_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <api_key>`")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The browser's session (`POST /v1/sessions`); state-changing requests also "
    "send `X-CSRF-Token`.",
)


@dataclass(frozen=True)
class Caller:
    account: Account
    web_session: WebSession | None
    """Set when the caller came in with the session cookie."""


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
SessionCookie = Annotated[str | None, Depends(_cookie)]


def resolve_caller(
    request: Request,
    session: Session,
    now: datetime,
    credentials: HTTPAuthorizationCredentials | None,
    cookie: str | None,
) -> Caller:
    """The caller of a request by its API key or session cookie; 401 without a valid one, 403
    for a cookie-authenticated state change without the CSRF token."""
    if credentials is not None:
        account = auth_service.authenticate(session, credentials.credentials)
        session.commit()  # end the read transaction now: services open their own unit of work
        if account is None:
            raise ApiKeyNotValid()
        return Caller(account, None)
    if cookie is None:
        raise NotSignedIn()
    found = auth_service.authenticate_session(session, cookie, now=now)
    session.commit()
    if found is None:
        raise SessionEnded()
    account, web_session = found
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), web_session.csrf_token.encode()):
            raise CsrfTokenMissing(
                f"This request needs the `{CSRF_HEADER}` header of your session; reload the page."
            )
    return Caller(account, web_session)


@raises(Unauthorized, CsrfTokenMissing)
def current_caller(
    request: Request,
    session: SessionDep,
    now: Now,
    credentials: BearerCredentials,
    cookie: SessionCookie,
) -> Caller:
    return resolve_caller(request, session, now, credentials, cookie)


async def current_account(caller: Annotated[Caller, Depends(current_caller)]) -> Account:
    return caller.account


def require_role(account: Account, *roles: Role) -> Account:
    """The account, if it has one of ``roles``; else 403."""
    if account.role not in roles:
        raise WrongRole(account, roles)
    return account


@raises(ServiceUnavailable, Forbidden, Unauthorized, CsrfTokenMissing)
async def authenticated_inside() -> None:
    """For a route that authenticates its caller inside its own call (lease and submit, whose
    hot path checks the API key in the same database call as the work, app/work/hotpath.py):
    declares what that check raises, as ``Worker`` would. Does nothing itself."""


def _require(*roles: Role) -> Callable[[Account], Awaitable[Account]]:
    # async: a role check does no I/O, so it need not cost a thread-pool hop (app/core/deps.py).
    @raises(Forbidden)
    async def check(account: Annotated[Account, Depends(current_account)]) -> Account:
        return require_role(account, *roles)

    return check


CurrentCaller = Annotated[Caller, Depends(current_caller)]
AnyAccount = Annotated[Account, Depends(current_account)]
Requester = Annotated[Account, Depends(_require(Role.requester))]
Worker = Annotated[Account, Depends(_require(Role.worker))]
Operator = Annotated[Account, Depends(_require(Role.operator))]
