"""``Requester``, ``Worker``, ``Operator``, ``AnyAccount``: the caller, checked for its role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service as auth_service
from app.core.deps import SessionDep
from app.core.errors import Forbidden, Unauthorized
from app.models import Account, Role

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <api_key>`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def current_account(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    if credentials is None:
        raise Unauthorized(
            "Send your API key as `Authorization: Bearer <api_key>`.", headers=_CHALLENGE
        )
    account = auth_service.authenticate(session, credentials.credentials)
    # End the read transaction now: services open their own unit of work.
    session.commit()
    if account is None:
        raise Unauthorized("The API key is not valid.", headers=_CHALLENGE)
    return account


def _require(*roles: Role) -> Callable[[Account], Awaitable[Account]]:
    # async: a role check does no I/O, so it need not cost a thread-pool hop (app/core/deps.py).
    async def check(account: Annotated[Account, Depends(current_account)]) -> Account:
        if account.role not in roles:
            wanted = " or ".join(roles)
            article = "an" if account.role[:1] in "aeiou" else "a"
            raise Forbidden(
                f"This call is for {wanted} accounts; yours is {article} {account.role} account."
            )
        return account

    return check


AnyAccount = Annotated[Account, Depends(current_account)]
Requester = Annotated[Account, Depends(_require(Role.requester))]
Worker = Annotated[Account, Depends(_require(Role.worker))]
Operator = Annotated[Account, Depends(_require(Role.operator))]
