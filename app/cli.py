"""``tessera``: serve | worker | migrate | create-operator | aggregate, and the requester's
commands (login, signup, me, deposit, project, batch, review: see tessera/cli.py)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

# The app's modules (settings, SQLAlchemy, alembic) and the requester's client (httpx,
# pydantic: ~0.4 s) are imported inside the commands that use them: ``tessera aggregate`` is a
# batch tool whose start-up time counts (benchmarks/consensus/README.md, end to end).


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.core.config import get_settings
    from app.core.migrate import upgrade

    settings = get_settings()
    if settings.should_migrate_on_start:
        # Migrate once here, not in each of the --workers processes, which would race.
        upgrade(settings.database_url)
        os.environ["TESSERA_MIGRATE_ON_START"] = "false"
    print(
        f"Tessera on http://{args.host}:{args.port}/ (web app; API docs at /docs; database: "
        f"{settings.database_url.split('://')[0]}, data: {settings.data_dir.resolve()})",
        flush=True,
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.core.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    print("database is at the latest schema")
    return 0


def _create_operator(args: argparse.Namespace) -> int:
    from app.accounts import service as account_service
    from app.core.clock import utc_now
    from app.core.config import get_settings
    from app.core.db import make_engine, make_sessionmaker
    from app.core.migrate import upgrade
    from app.models import Role

    password = None
    if args.email:
        # From the environment (scripts) or asked for on the terminal; never an argument,
        # which other users of the machine could read in the process list.
        password = os.environ.get("TESSERA_OPERATOR_PASSWORD") or getpass.getpass(
            "password for the web app (at least 10 characters): "
        )
        if len(password) < 10:
            print("the password must have at least 10 characters", file=sys.stderr)
            return 2
    settings = get_settings()
    if settings.should_migrate_on_start:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            account, key = account_service.create_account(
                session,
                role=Role.operator,
                name=args.name,
                now=utc_now(),
                email=args.email,
                password=password,
            )
    finally:
        engine.dispose()
    print(
        f"operator {account.id} ({account.name}) created; its API key, shown once:", file=sys.stderr
    )
    print(key)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.core.db import make_engine, make_sessionmaker
    from workers.runner import default_reconcilers, intervals_from, run_forever, run_pass

    settings = get_settings()
    engine = make_engine(
        settings.database_url,
        pool_size=2,
        statement_timeout_ms=settings.db_worker_statement_timeout_ms,
    )
    make_session = make_sessionmaker(engine)
    try:
        if args.once:
            print(run_pass(make_session, default_reconcilers(settings)))
            return 0
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        reconcilers = default_reconcilers(settings)
        run_forever(
            make_session,
            stop,
            reconcilers=reconcilers,
            intervals=intervals_from(settings, reconcilers, every_s=args.interval),
        )
    finally:
        engine.dispose()
    return 0


def _verify_ledger(_: argparse.Namespace) -> int:
    from app.core.config import get_settings
    from app.core.db import make_engine, make_sessionmaker
    from app.operator.money import verify_ledger

    settings = get_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            report = verify_ledger(session)
    finally:
        engine.dispose()
    print(f"accounts: {report.accounts}, total: {report.total}, ok: {report.ok}")
    for violation in report.violations:
        print(f"violation: {violation}")
    return 0 if report.ok else 1


def build_parser(*, requester_only: bool = False) -> argparse.ArgumentParser:
    from tessera import cli as requester_cli

    parser = argparse.ArgumentParser(prog="tessera", description=__doc__)
    if requester_only:
        # The requester's commands start fast: no scientific stack (consensus) imported.
        requester_cli.add_parsers(parser.add_subparsers(dest="command", required=True))
        return parser
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-access-log", dest="access_log", action="store_false")
    serve.set_defaults(func=_serve)

    sub.add_parser("migrate", help="bring the database to the latest schema").set_defaults(
        func=_migrate
    )

    operator = sub.add_parser("create-operator", help="create an operator; prints its API key last")
    operator.add_argument("name")
    operator.add_argument(
        "--email",
        help="also let it sign in to the web app with this email; the password comes from "
        "TESSERA_OPERATOR_PASSWORD or is asked for",
    )
    operator.set_defaults(func=_create_operator)

    worker = sub.add_parser("worker", help="run the background reconcilers")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.add_argument(
        "--interval",
        type=float,
        default=None,
        help="run every reconciler this often (default: each at its own interval)",
    )
    worker.set_defaults(func=_worker)

    sub.add_parser(
        "verify-ledger", help="check every ledger invariant; exit 1 on a violation"
    ).set_defaults(func=_verify_ledger)

    from consensus import cli as consensus_cli

    consensus_cli.add_parser(sub)
    requester_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["aggregate"]:
        # Only the consensus library: no web client, no service modules.
        from consensus import cli as consensus_cli

        return consensus_cli.main(argv)
    from tessera import cli as requester_cli

    requester = bool(argv) and argv[0] in requester_cli.COMMANDS
    args = build_parser(requester_only=requester).parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
