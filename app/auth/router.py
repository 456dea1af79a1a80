"""Browser sessions (sign in, who am I, sign out) and the signed-in user's named API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.auth import keys as key_service
from app.auth import sessions as session_service
from app.auth.deps import SESSION_COOKIE, AnyAccount, CurrentCaller
from app.auth.errors import (
    ApiKeyNotFound,
    CsrfTokenMissing,
    NotABrowserSession,
    SignInThrottled,
    WrongCredentials,
)
from app.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    ApiKeyPage,
    SessionAccount,
    SessionCreate,
    SessionOut,
)
from app.core.deps import Now, SessionDep, SettingsDep, client_address
from app.core.errors import Unauthorized
from app.models import Account, ApiKey, WebSession

router = APIRouter(prefix="/v1", tags=["sessions"])


def _session_out(account: Account, web_session: WebSession) -> SessionOut:
    return SessionOut(
        account=SessionAccount(
            id=account.id, role=account.role, name=account.name, email=account.email
        ),
        csrf_token=web_session.csrf_token,
        expires_at=web_session.expires_at,
    )


def _key_out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id, name=row.name, prefix=f"tsr_{row.key_id}", created_at=row.created_at
    )


def _is_https(request: Request, public_url: str) -> bool:
    return request.url.scheme == "https" or public_url.startswith("https://")


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    responses={
        401: {"description": WrongCredentials.title},
        429: {"description": SignInThrottled.title},
    },
)
def sign_in(
    body: SessionCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    now: Now,
    settings: SettingsDep,
) -> SessionOut:
    """Sign in with email and password: sets the session cookie, returns the CSRF token."""
    address = client_address(request)
    signed_in = session_service.sign_in(
        session, email=body.email, password=body.password, address=address, now=now
    )
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=int(session_service.SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request, settings.public_url),
    )
    return _session_out(signed_in.account, signed_in.web_session)


@router.get(
    "/sessions/current",
    response_model=SessionOut,
    responses={401: {"description": Unauthorized.title}},
)
def current_session(caller: CurrentCaller) -> SessionOut:
    """The signed-in browser's account and CSRF token (the page asks for it after a reload)."""
    if caller.web_session is None:
        raise NotABrowserSession()
    return _session_out(caller.account, caller.web_session)


@router.delete(
    "/sessions/current",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": CsrfTokenMissing.title}},
)
def sign_out(caller: CurrentCaller, session: SessionDep, now: Now, request: Request) -> Response:
    """Sign out: the session is revoked on the server and the cookie cleared."""
    if caller.web_session is not None:
        session_service.sign_out(session, caller.web_session, now=now)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    settings = request.app.state.settings
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request, settings.public_url),
    )
    return response


@router.get("/me/api-keys", response_model=ApiKeyPage, tags=["accounts"])
def list_api_keys(account: AnyAccount, session: SessionDep) -> ApiKeyPage:
    """Your live API keys (the secret part is never shown again)."""
    return ApiKeyPage(items=[_key_out(row) for row in key_service.list_keys(session, account)])


@router.post(
    "/me/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    tags=["accounts"],
)
def create_api_key(
    body: ApiKeyCreate, account: AnyAccount, session: SessionDep, now: Now
) -> ApiKeyCreated:
    """A new named API key for scripts; the key is in this response only."""
    row, plaintext = key_service.create_key(session, account, body.name, now=now)
    return ApiKeyCreated(**_key_out(row).model_dump(), api_key=plaintext)


@router.delete(
    "/me/api-keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["accounts"],
    responses={404: {"description": ApiKeyNotFound.title}},
)
def revoke_api_key(key_id: str, account: AnyAccount, session: SessionDep, now: Now) -> Response:
    """Revoke a key: scripts using it get 401 from now on."""
    key_service.revoke_key(session, account, key_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
