"""Settings: one object, `TESSERA_`-prefixed environment variables, safe defaults.

With nothing set, Tessera runs embedded: SQLite in a file and images on disk, both under
``data_dir``, the reconcilers inside the ``serve`` process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalize_database_url(url: str) -> str:
    """Pick the driver ourselves, so a plain ``postgresql://user@host/db`` URL works.

    We run SQLAlchemy synchronously (benchmarks/README.md has the measurement behind that), so
    PostgreSQL goes through psycopg 3 and SQLite through the standard library.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(
            "database URL must look like postgresql://user@host:port/db or sqlite:///path"
        )
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if base == "sqlite":
        return f"sqlite://{rest}"
    raise ValueError(f"unsupported database {base!r}: use postgresql:// or sqlite://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""
    """Empty means SQLite at ``data_dir/tessera.db``."""
    public_url: str = ""
    """Base URL put in links (image URLs); empty means the URL the request came in on."""
    image_store: str = ""
    """Where image bytes live: empty means files under ``data_dir/images``; ``s3://bucket/prefix``
    an S3-compatible object store (endpoint and credentials from the usual AWS variables), whose
    presigned URLs then go to browsers and clients (README: "Images in an object store")."""

    secret_key: str = Field(default="", repr=False)
    """Signs image URLs. Empty: a random key is made once and kept in the database; set the
    same value on several machines that do not share a database."""
    web_dir: Path | None = None
    """The built web app (``web/dist``); empty: the one next to the source tree."""

    run_reconcilers: bool | None = None
    """Run the background reconcilers inside ``serve``; default: yes on SQLite, no on PostgreSQL
    (there, run ``tessera worker`` processes)."""
    reconcile_interval_s: float | None = Field(default=None, gt=0)
    """Run every reconciler this often (tests, demos); unset: each at its own ``interval_s``
    (lease expiry every 2 s, re-estimation every 60 s, ...: ``workers/``)."""
    reconcile_intervals: dict[str, float] = Field(default_factory=dict)
    """Seconds between passes of single reconcilers by name, as JSON:
    ``TESSERA_RECONCILE_INTERVALS='{"quality.reestimate": 300}'``."""
    migrate_on_start: bool | None = None
    """Default: yes on SQLite (embedded mode), no on PostgreSQL (run ``tessera migrate``)."""

    hot_path: bool = True
    """PostgreSQL: lease and submit in one database call each (PL/pgSQL, migration 0019);
    ``TESSERA_HOT_PATH=0`` runs the service's ORM path instead (what the benchmark compares)."""

    max_live_leases_per_worker: int = Field(default=10, ge=1)
    """Leases one worker may hold at once in one project, so nobody can sit on a whole batch."""

    payout_provider_url: str = ""
    """Empty: the embedded payout provider (marks payouts paid). Else payouts are POSTed here
    with an Idempotency-Key."""
    payout_timeout_s: float = Field(default=10.0, gt=0)

    model_private_hosts: bool = False
    """Let an ``http`` model attached to a project live on a private or loopback address (a
    model server next to a self-hosted Tessera). Off: the SSRF guard refuses such URLs at
    registration and at every call, like image URLs."""

    webhook_private_hosts: bool = False
    """Let a webhook URL be on a private or loopback address (a receiver on the operator's own
    network or machine, local development). Off: the SSRF guard refuses such URLs at
    registration and at every delivery, like image URLs."""

    # Abuse limits (app/core/ratelimit.py): per fixed window, counted in the database. Generous:
    # they stop floods and scripts, not people (a fast worker answers a few tasks a minute).
    signups_per_address_per_hour: int = Field(default=1000, ge=1)
    leases_per_worker_per_minute: int = Field(default=1200, ge=1)
    answers_per_worker_per_minute: int = Field(default=1200, ge=1)
    assists_per_worker_per_minute: int = Field(default=300, ge=1)
    """Assist tool calls (``POST /v1/assist/...``: GrabCut, superpixels, snapping), each up to a
    few hundred ms of CPU: five a second is more than a person drawing needs."""

    db_pool_size: int = Field(default=10, ge=1)
    db_statement_timeout_ms: int = Field(default=8_000, ge=0)
    """Longest statement of a request on PostgreSQL (0: no limit): with the pool and connect
    timeouts, a request meets a dead or stuck database with a 503 within 10 s, not a hang."""
    db_worker_statement_timeout_ms: int = Field(default=300_000, ge=0)
    """The same for ``tessera worker`` (re-estimation reads every answer of a project)."""
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)

    # Image limits (bytes and pixels). Pillow only warns below twice its own limit; we refuse.
    max_image_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_request_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    """The largest body of an upload (a batch, a gold task)."""
    max_answer_bytes: int = Field(default=96 * 1024 * 1024, gt=0)
    """The largest body of a submit: a 64 MB segmentation mask PNG is ~86 MB in base64."""
    max_json_bytes: int = Field(default=1024 * 1024, gt=0)
    """The largest body of every other route (projects, money, sessions, ...)."""
    max_image_pixels: int = Field(default=50_000_000, gt=0)
    max_zip_files: int = Field(default=10_000, gt=0)
    max_zip_uncompressed_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    max_batch_images: int = Field(default=10_000, gt=0)
    url_fetch_timeout_s: float = Field(default=10.0, gt=0)
    url_fetch_max_redirects: int = Field(default=3, ge=0)

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalize_url(cls, value: object) -> object:
        if isinstance(value, str) and value.strip():
            return normalize_database_url(value.strip())
        return value

    @model_validator(mode="after")
    def _default_sqlite(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'tessera.db').resolve()}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def thumbnails_dir(self) -> Path:
        return self.data_dir / "thumbnails"

    @property
    def reconcilers_in_process(self) -> bool:
        return self.is_sqlite if self.run_reconcilers is None else self.run_reconcilers

    @property
    def should_migrate_on_start(self) -> bool:
        return self.is_sqlite if self.migrate_on_start is None else self.migrate_on_start


@lru_cache
def get_settings() -> Settings:
    return Settings()
