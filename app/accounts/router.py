from __future__ import annotations

from fastapi import APIRouter, status

from app.accounts import service as account_service
from app.accounts.schemas import AccountCreate, AccountCreated, Me
from app.auth.deps import AnyAccount
from app.core.deps import Now, SessionDep
from app.models import Role
from payments.money import format_usd

router = APIRouter(prefix="/v1", tags=["accounts"])

_EMPTY_BALANCE = {
    Role.requester: ("available", "escrowed"),
    Role.worker: ("pending", "available", "paid_out"),
    Role.operator: (),
}


@router.post("/accounts", status_code=status.HTTP_201_CREATED, response_model=AccountCreated)
def create_account(body: AccountCreate, session: SessionDep, now: Now) -> AccountCreated:
    """Sign up as a requester or a worker; the response carries the API key, shown once."""
    account, api_key = account_service.create_account(session, role=Role(body.role), name=body.name, now=now)
    return AccountCreated(
        id=account.id, role=account.role, name=account.name, api_key=api_key, created_at=account.created_at
    )


@router.get("/me", response_model=Me)
def me(account: AnyAccount) -> Me:
    """The caller's account and balance."""
    # Money moves with the ledger (payments/); until an account has entries its balance is zero.
    balance = {name: format_usd(0) for name in _EMPTY_BALANCE[Role(account.role)]}
    return Me(id=account.id, role=account.role, name=account.name, created_at=account.created_at, balance=balance)
