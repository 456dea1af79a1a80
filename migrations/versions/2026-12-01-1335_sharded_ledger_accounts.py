"""Sharded fee and world accounts; one-call postings on PostgreSQL

Why: every reward locked the one ``platform_fees`` row and every deposit and settled payout the
one ``world`` row, to the end of its COMMIT, so those postings ran one at a time (109–295/s).
Now ``ledger_accounts`` rows carry a ``shard``: the two hot accounts are split into rows
(kind, owner, 0…N-1) and a posting writes the one its transaction id hashes to; every other
account keeps the single shard 0. ``UNIQUE(kind, owner)`` becomes ``UNIQUE(kind, owner, shard)``.

On PostgreSQL two functions do a posting in one round trip: ``payments_post`` (claim the
reference, create missing account rows, lock them in id order, check sign rules, write the
balances and entries) and ``payments_pay`` (read a batch's terms, compute the fee and post a
reward or bonus with its hold). payments/ledger.py and payments/pricing.py call them; SQLite
keeps the same steps as statements.

Existing rows: every account becomes shard 0 of itself, so balances, entries and ids are
unchanged. The downgrade folds every shard back into shard 0 (its entries move to shard 0's
row, whose balance becomes the sum) before restoring ``UNIQUE(kind, owner)``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 13:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same steps as payments.ledger.post, in one call. Returns one row: o_status is 'created',
# 'replayed' (o_tx = the first posting: the caller compares its entries) or 'insufficient'
# (o_kind, o_owner, o_balance, o_needed name the account; the reference was given back).
POST_FUNCTION = """
CREATE FUNCTION payments_post(
    p_tx text, p_kind text, p_reference text, p_now timestamptz,
    p_kinds text[], p_owners text[], p_shards integer[], p_amounts bigint[], p_negative boolean[],
    OUT o_status text, OUT o_tx text, OUT o_kind text, OUT o_owner text,
    OUT o_balance bigint, OUT o_needed bigint
) LANGUAGE plpgsql AS $$
DECLARE
    wanted integer;
    got integer;
BEGIN
    INSERT INTO ledger_transactions (id, kind, reference, created_at)
    VALUES (p_tx, p_kind, p_reference, p_now)
    ON CONFLICT (kind, reference) DO NOTHING;
    IF NOT FOUND THEN
        SELECT t.id INTO o_tx FROM ledger_transactions t
        WHERE t.kind = p_kind AND t.reference = p_reference;
        o_status := 'replayed';
        RETURN;
    END IF;
    o_tx := p_tx;
    SELECT count(DISTINCT (k, o, s)) INTO wanted FROM unnest(p_kinds, p_owners, p_shards) AS u(k, o, s);
    FOR attempt IN 1..2 LOOP
        -- Lock in ascending id order (the lock is taken above the sort), as every poster does.
        SELECT count(*) INTO got FROM (
            SELECT a.id FROM ledger_accounts a
            WHERE (a.kind, a.owner, a.shard) IN (
                SELECT k, o, s FROM unnest(p_kinds, p_owners, p_shards) AS u(k, o, s))
            ORDER BY a.id
            FOR UPDATE OF a
        ) locked;
        EXIT WHEN got = wanted OR attempt = 2;
        INSERT INTO ledger_accounts (kind, owner, shard, allow_negative, balance, created_at)
        SELECT DISTINCT u.k, u.o, u.s, u.n, 0, p_now
        FROM unnest(p_kinds, p_owners, p_shards, p_negative) AS u(k, o, s, n)
        WHERE NOT EXISTS (
            SELECT 1 FROM ledger_accounts a WHERE a.kind = u.k AND a.owner = u.o AND a.shard = u.s)
        ON CONFLICT (kind, owner, shard) DO NOTHING;
    END LOOP;
    SELECT a.kind, a.owner, a.balance, -d.delta
    INTO o_kind, o_owner, o_balance, o_needed
    FROM ledger_accounts a
    JOIN (SELECT k, o, s, sum(m)::bigint AS delta
          FROM unnest(p_kinds, p_owners, p_shards, p_amounts) AS u(k, o, s, m)
          GROUP BY k, o, s) d ON a.kind = d.k AND a.owner = d.o AND a.shard = d.s
    WHERE NOT a.allow_negative AND a.balance + d.delta < 0
    ORDER BY a.id
    LIMIT 1;
    IF FOUND THEN
        -- Give the reference back, so a caller that catches this and commits leaves no trace.
        DELETE FROM ledger_transactions WHERE id = p_tx;
        o_status := 'insufficient';
        RETURN;
    END IF;
    UPDATE ledger_accounts a SET balance = a.balance + d.delta
    FROM (SELECT k, o, s, sum(m)::bigint AS delta
          FROM unnest(p_kinds, p_owners, p_shards, p_amounts) AS u(k, o, s, m)
          GROUP BY k, o, s) d
    WHERE a.kind = d.k AND a.owner = d.o AND a.shard = d.s AND d.delta <> 0;
    INSERT INTO ledger_entries (transaction_id, account_id, amount)
    SELECT p_tx, a.id, u.m
    FROM unnest(p_kinds, p_owners, p_shards, p_amounts) WITH ORDINALITY AS u(k, o, s, m, i)
    JOIN ledger_accounts a ON a.kind = u.k AND a.owner = u.o AND a.shard = u.s
    ORDER BY u.i;
    o_status := 'created';
END
$$
"""

# payments.pricing._pay in one call: a reward (p_amount NULL: the batch's reward, from its
# escrow) or a bonus (p_amount, from the requester's available balance), the fee rounded down
# per paid amount like money.fee_for, the worker's hold for the platform's hold period. Extra
# statuses: 'unknown_escrow' (never launched) and 'zero' (nothing to pay): the caller raises.
PAY_FUNCTION = """
CREATE FUNCTION payments_pay(
    p_tx text, p_kind text, p_reference text, p_now timestamptz, p_batch text, p_worker text,
    p_amount bigint, p_from_escrow boolean, p_fee_shard integer, p_hold_default integer,
    OUT o_status text, OUT o_tx text, OUT o_kind text, OUT o_owner text,
    OUT o_balance bigint, OUT o_needed bigint
) LANGUAGE plpgsql AS $$
DECLARE
    terms record;
    paid bigint;
    fee bigint;
    hold_seconds integer;
    kinds text[];
    owners text[];
    shards integer[];
    amounts bigint[];
BEGIN
    SELECT e.reward, e.fee_ppm, e.requester_ref INTO terms FROM escrows e WHERE e.batch_ref = p_batch;
    IF NOT FOUND THEN
        o_status := 'unknown_escrow';
        RETURN;
    END IF;
    paid := coalesce(p_amount, terms.reward);
    IF paid = 0 THEN
        o_status := 'zero';
        RETURN;
    END IF;
    fee := div(paid::numeric * terms.fee_ppm, 1000000)::bigint;
    kinds := ARRAY[CASE WHEN p_from_escrow THEN 'requester_escrow' ELSE 'requester_available' END,
                   'worker_pending'];
    owners := ARRAY[CASE WHEN p_from_escrow THEN p_batch ELSE terms.requester_ref END, p_worker];
    shards := ARRAY[0, 0];
    amounts := ARRAY[-(paid + fee), paid];
    IF fee > 0 THEN
        kinds := kinds || 'platform_fees'::text;
        owners := owners || 'platform'::text;
        shards := shards || p_fee_shard;
        amounts := amounts || fee;
    END IF;
    SELECT * INTO o_status, o_tx, o_kind, o_owner, o_balance, o_needed FROM payments_post(
        p_tx, p_kind, p_reference, p_now, kinds, owners, shards, amounts,
        array_fill(false, ARRAY[cardinality(kinds)]));
    IF o_status = 'created' THEN
        SELECT s.payout_hold_seconds INTO hold_seconds FROM platform_settings s WHERE s.id = 1;
        INSERT INTO ledger_holds (transaction_id, worker_ref, amount, release_at)
        VALUES (p_tx, p_worker, paid,
                p_now + make_interval(secs => coalesce(hold_seconds, p_hold_default)));
    END IF;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shard", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.drop_constraint("ledger_accounts_kind_owner_key", type_="unique")
        batch_op.create_unique_constraint(
            "ledger_accounts_kind_owner_shard_key", ["kind", "owner", "shard"]
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POST_FUNCTION)
        op.execute(PAY_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION payments_pay")
        op.execute("DROP FUNCTION payments_post")
    # Fold every shard into shard 0 of its account (creating shard 0 where only others exist).
    op.execute(
        """
        INSERT INTO ledger_accounts (kind, owner, shard, allow_negative, balance, created_at)
        SELECT kind, owner, 0, max(CASE WHEN allow_negative THEN 1 ELSE 0 END) = 1, 0, min(created_at)
        FROM ledger_accounts a
        WHERE NOT EXISTS (
            SELECT 1 FROM ledger_accounts z
            WHERE z.kind = a.kind AND z.owner = a.owner AND z.shard = 0)
        GROUP BY kind, owner
        """
    )
    op.execute(
        """
        UPDATE ledger_entries SET account_id = (
            SELECT z.id FROM ledger_accounts z JOIN ledger_accounts a
              ON z.kind = a.kind AND z.owner = a.owner AND z.shard = 0
            WHERE a.id = ledger_entries.account_id)
        WHERE account_id IN (SELECT id FROM ledger_accounts WHERE shard <> 0)
        """
    )
    op.execute(
        """
        UPDATE ledger_accounts SET balance = (
            SELECT coalesce(sum(a.balance), 0) FROM ledger_accounts a
            WHERE a.kind = ledger_accounts.kind AND a.owner = ledger_accounts.owner)
        WHERE shard = 0 AND EXISTS (
            SELECT 1 FROM ledger_accounts a
            WHERE a.kind = ledger_accounts.kind AND a.owner = ledger_accounts.owner
              AND a.shard <> 0)
        """
    )
    op.execute("DELETE FROM ledger_accounts WHERE shard <> 0")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_constraint("ledger_accounts_kind_owner_shard_key", type_="unique")
        batch_op.create_unique_constraint("ledger_accounts_kind_owner_key", ["kind", "owner"])
        batch_op.drop_column("shard")
