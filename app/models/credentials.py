"""Credentials: named API keys, browser sessions, failed sign-ins and the server's own secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, id_column


class ApiKey(Base):
    """A named key for scripts: ``tsr_<key_id>_<secret>``; only a SHA-256 of the secret is kept.

    An account has any number of them; revoking one sets ``revoked_at`` (the row stays, so the
    list shows what existed and a revoked key's id is never reused)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    """Public half of the key; finds the row."""
    key_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the secret half; the secret itself is never stored."""
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; the row holds its SHA-256, so a copy
    of the database cannot be replayed as a cookie. Signing out sets ``revoked_at``."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = id_column()
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    """Sent back in ``X-CSRF-Token`` by state-changing requests; useless without the cookie."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ServerSecret(Base):
    """Secrets the server makes for itself on first start (the image-URL signing key), shared by
    every replica through the database unless ``TESSERA_SECRET_KEY`` sets one."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
