from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import payments
from payments import accounts as acct
from payments.accounts import SHARDED_KINDS
from payments.errors import DuplicateTransaction, InsufficientFunds, UnbalancedTransaction
from payments.ledger import AccountRow, lock_order, pg_post_params, post
from payments.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.payments.conftest import DOLLAR, REQ, T0, fund


def _move(session: Session, reference: str, amount: int) -> payments.Posted:
    return post(
        session,
        "test",
        reference,
        [(acct.requester_available(REQ), -amount), (acct.platform_fees(), amount)],
        now=T0,
    )


class TestPost:
    def test_moves_money_and_updates_cached_balances(self, db: Session) -> None:
        fund(db, REQ, 5 * DOLLAR)
        assert _move(db, "r1", 2 * DOLLAR).created
        db.commit()
        assert payments.balance(db, acct.requester_available(REQ)) == 3 * DOLLAR
        assert payments.balance(db, acct.platform_fees()) == 2 * DOLLAR
        assert payments.balance(db, acct.world()) == -5 * DOLLAR

    @pytest.mark.parametrize(
        "entries",
        [
            [],
            [(acct.world(), 5)],
            [(acct.world(), -5), (acct.platform_fees(), 4)],
            [(acct.world(), 0), (acct.platform_fees(), 0)],
        ],
    )
    def test_refuses_unbalanced_before_writing(
        self, db: Session, entries: list[payments.ledger.Entry]
    ) -> None:
        with pytest.raises(UnbalancedTransaction):
            post(db, "test", "x", entries, now=T0)
        assert db.scalar(select(LedgerTransaction.id)) is None

    def test_same_reference_posts_once(self, db: Session) -> None:
        fund(db, REQ, 5 * DOLLAR)
        first = _move(db, "r1", DOLLAR)
        again = _move(db, "r1", DOLLAR)
        db.commit()
        assert (first.created, again.created) == (True, False)
        assert first.transaction_id == again.transaction_id
        assert payments.balance(db, acct.requester_available(REQ)) == 4 * DOLLAR

    def test_same_reference_other_entries_is_refused(self, db: Session) -> None:
        fund(db, REQ, 5 * DOLLAR)
        _move(db, "r1", DOLLAR)
        with pytest.raises(DuplicateTransaction):
            _move(db, "r1", 2 * DOLLAR)

    def test_overdraft_writes_nothing_and_frees_the_reference(self, db: Session) -> None:
        fund(db, REQ, DOLLAR)
        with pytest.raises(InsufficientFunds) as err:
            _move(db, "r1", 2 * DOLLAR)
        assert (err.value.balance, err.value.needed) == (DOLLAR, 2 * DOLLAR)
        db.commit()  # even a caller that swallows the error and commits leaves no trace
        assert payments.balance(db, acct.requester_available(REQ)) == DOLLAR
        fund(db, REQ, DOLLAR, reference="more")
        assert _move(db, "r1", 2 * DOLLAR).created

    def test_overdraft_after_a_credit_sets_the_credit_back(self, db: Session) -> None:
        # Lock order writes requester_available (the credit) before worker_available (the
        # debit, refused): the credit already made is set back.
        fund(db, REQ, DOLLAR)
        post(db, "test", "earn", [(acct.world(), -5), (acct.worker_available("w"), 5)], now=T0)
        db.commit()
        before = dict(db.execute(select(LedgerAccount.id, LedgerAccount.balance)).all())
        entries = [(acct.worker_available("w"), -6), (acct.requester_available(REQ), 6)]
        with pytest.raises(InsufficientFunds) as err:
            post(db, "test", "take", entries, now=T0)
        assert (err.value.account_kind, err.value.owner) == ("worker_available", "w")
        assert (err.value.balance, err.value.needed) == (5, 6)
        db.commit()  # even a caller that swallows the error and commits leaves no trace
        assert dict(db.execute(select(LedgerAccount.id, LedgerAccount.balance)).all()) == before
        assert (
            db.scalar(select(LedgerTransaction.id).where(LedgerTransaction.reference == "take"))
            is None
        )

    def test_overdraft_of_a_new_account_creates_nothing(self, db: Session) -> None:
        fund(db, REQ, DOLLAR)
        accounts = db.scalar(select(func.count()).select_from(LedgerAccount))
        entries = [(acct.requester_available(REQ), 1), (acct.worker_available("nobody"), -1)]
        with pytest.raises(InsufficientFunds) as err:
            post(db, "test", "take", entries, now=T0)
        assert (err.value.balance, err.value.needed) == (0, 1)
        db.commit()
        assert db.scalar(select(func.count()).select_from(LedgerAccount)) == accounts
        assert payments.balance(db, acct.requester_available(REQ)) == DOLLAR

    def test_entries_keep_their_order_and_accounts_net(self, db: Session) -> None:
        fund(db, REQ, DOLLAR)
        a, w = acct.requester_available(REQ), acct.worker_available("w")
        # a nets to 0 (still two entries on it), w to +3, world to -3.
        entries = [(w, 5), (a, -5), (acct.world(), -3), (a, 5), (w, -2)]
        posted = post(db, "test", "mixed", entries, now=T0)
        db.commit()
        stored = db.execute(
            select(LedgerAccount.kind, LedgerAccount.owner, LedgerEntry.amount)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerEntry.transaction_id == posted.transaction_id)
            .order_by(LedgerEntry.id)
        ).all()
        assert [((k, o), m) for k, o, m in stored] == [(tuple(r), m) for r, m in entries]
        assert payments.balance(db, a) == DOLLAR
        assert payments.balance(db, w) == 3
        assert payments.balance(db, acct.world()) == -DOLLAR - 3

    def test_database_refuses_a_negative_balance(self, db: Session) -> None:
        fund(db, REQ, DOLLAR)
        with pytest.raises(IntegrityError):
            db.execute(
                update(LedgerAccount)
                .where(LedgerAccount.kind == "requester_available")
                .values(balance=-1)
            )
        db.rollback()


class TestEntries:
    def test_newest_first_by_id_cursor(self, db: Session) -> None:
        for i in range(5):
            fund(db, REQ, DOLLAR, reference=f"d{i}")
        page1 = payments.entries(db, REQ, limit=3)
        page2 = payments.entries(db, REQ, before_id=page1[-1].id, limit=3)
        refs = [e.reference for e in page1 + page2]
        assert refs == ["d4", "d3", "d2", "d1", "d0"]
        assert all(e.amount == DOLLAR and e.account_kind == "requester_available" for e in page1)


class TestVerify:
    def test_empty_ledger_is_sound(self, db: Session) -> None:
        report = payments.verify(db)
        assert (report.ok, report.accounts, report.total, report.violations) == (True, 0, 0, [])

    def test_detects_a_tampered_cache(self, session: Session) -> None:
        fund(session, REQ, DOLLAR)
        session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.kind == "requester_available")
            .values(balance=7)
        )
        report = payments.verify(session)
        assert not report.ok
        assert any("caches 7" in v for v in report.violations)
        assert any("sum to" in v for v in report.violations)

    def test_detects_an_unbalanced_transaction(self, session: Session) -> None:
        fund(session, REQ, DOLLAR)
        tx = session.scalar(select(LedgerTransaction.id))
        account = session.scalar(select(LedgerAccount.id).where(LedgerAccount.kind == "world"))
        session.execute(
            insert(LedgerEntry).values(transaction_id=tx, account_id=account, amount=-3)
        )
        violations = payments.verify(session).violations
        assert any("sums to -3" in v for v in violations)
        session.rollback()

    def test_checks_accepted_answers_against_rewards(self, db: Session) -> None:
        report = payments.verify(db, accepted={"asg_1"})
        assert report.violations == ["accepted answer asg_1 was not paid"]
        assert payments.verify(db, accepted=list).ok

    def test_runs_extra_checks(self, db: Session) -> None:
        report = payments.verify(
            db, extra_checks=[lambda _s: ["idempotency key k maps to 2 responses"]]
        )
        assert not report.ok
        assert report.violations == ["idempotency key k maps to 2 responses"]


class TestLockOrder:
    def test_unsharded_rows_first_then_by_key_bytewise(self) -> None:
        rows = [
            AccountRow("world", "world", 3),
            AccountRow("worker_pending", "acc_b", 0),
            AccountRow("platform_fees", "platform", 30),
            AccountRow("requester_escrow", "bat_Z", 0),
            AccountRow("requester_escrow", "bat_a", 0),
            AccountRow("platform_fees", "platform", 4),
        ]
        ordered = sorted(rows, key=lock_order)
        assert [r.kind in SHARDED_KINDS for r in ordered] == [False] * 3 + [True] * 3
        assert ordered[:3] == [rows[3], rows[4], rows[1]]  # "Z" < "a": byte order, not a locale's
        assert ordered[3:] == [rows[5], rows[2], rows[0]]

    def test_function_arguments_net_rows_in_lock_order(self) -> None:
        fee, pending = (
            AccountRow("platform_fees", "platform", 7),
            AccountRow("worker_pending", "w", 0),
        )
        escrow = AccountRow("requester_escrow", "bat_1", 0)
        params = pg_post_params(
            "ltx_1",
            "reward",
            "asg_1",
            [(escrow, -22), (pending, 20), (fee, 2), (pending, -1), (escrow, 1)],
            T0,
        )
        assert params["kinds"] == ["requester_escrow", "worker_pending", "platform_fees"]
        assert params["shards"] == [0, 0, 7]
        assert params["deltas"] == [-21, 19, 2]
        assert params["negative"] == [False, False, False]
        assert params["rows"] == [1, 2, 3, 2, 1]
        assert params["amounts"] == [-22, 20, 2, -1, 1]
