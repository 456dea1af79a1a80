from __future__ import annotations

from fastapi import APIRouter, Request, status

from app.accounts import service as account_service
from app.accounts.schemas import AccountCreate, AccountCreated, Me
from app.auth.deps import AnyAccount
from app.auth.errors import EmailTaken
from app.core import ratelimit
from app.core.deps import Now, SessionDep, SettingsDep, client_address
from app.core.openapi import problems
from app.models import Role
from app.money import service as money_service
from payments.money import format_usd

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountCreated,
    responses=problems(ratelimit.RateLimited, EmailTaken),
)
def create_account(
    body: AccountCreate, request: Request, session: SessionDep, now: Now, settings: SettingsDep
) -> AccountCreated:
    """Sign up as a requester or a worker; the response carries the API key, shown once."""
    address = client_address(request)
    ratelimit.take(session, ratelimit.signups(settings), address, now=now, what="sign-ups")
    account, api_key = account_service.create_account(
        session,
        role=Role(body.role),
        name=body.name,
        now=now,
        email=body.email,
        password=body.password,
    )
    return AccountCreated(
        id=account.id,
        role=account.role,
        name=account.name,
        email=account.email,
        api_key=api_key,
        created_at=account.created_at,
    )


@router.get("/me", response_model=Me)
def me(account: AnyAccount, session: SessionDep) -> Me:
    """The caller's account and balance."""
    balance = {
        name: format_usd(amount)
        for name, amount in money_service.balance_of(session, account).items()
    }
    return Me(
        id=account.id,
        role=account.role,
        name=account.name,
        email=account.email,
        created_at=account.created_at,
        balance=balance,
    )
