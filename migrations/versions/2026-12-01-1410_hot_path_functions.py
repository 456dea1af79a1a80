"""One round trip per lease and per submit: PL/pgSQL functions (PostgreSQL only)

Why: the lease and the submit cost ~11 and ~15 ms of server CPU through the ORM, most of it
building and running a dozen statements; each is one call of a function here, in autocommit,
with the caller's API key checked inside (``app/work/hotpath.py`` calls them). A function that
meets a case it does not handle (a cookie caller, an error to explain, gold mix-in,
qualification, a ban, a fitted model, a geometry type, …) returns ``{"fallback": why}`` before
writing anything, and the caller runs the existing service instead.

SQLite: nothing (the service's path is the only one there).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEASE = r"""
CREATE OR REPLACE FUNCTION tessera_lease(
    p_key_id text, p_key_hash text, p_project text, p_now timestamptz, p_max_live int,
    p_id text, p_rl_name text, p_rl_window bigint, p_rl_ends bigint, p_rl_limit int
) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    v_worker text; v_role text; v_banned timestamptz;
    prj record; v_skill_banned timestamptz; v_qualified timestamptz; v_has_skill boolean;
    v_hits int; v_held int; v_task text; v_batch text; t record; v_reward bigint;
BEGIN
    SELECT a.id, a.role, a.banned_at INTO v_worker, v_role, v_banned
      FROM api_keys k JOIN accounts a ON a.id = k.account_id
     WHERE k.key_id = p_key_id AND k.revoked_at IS NULL AND k.key_hash = p_key_hash;
    IF NOT FOUND OR v_role <> 'worker' OR v_banned IS NOT NULL THEN
        RETURN '{"fallback": "caller"}';
    END IF;
    -- The rate limit of app.core.ratelimit (``take``): counted here, once, whatever follows.
    INSERT INTO rate_counters (bucket, "window", hits, ends_at)
    VALUES (p_rl_name || ':' || v_worker, p_rl_window, 1, p_rl_ends)
    ON CONFLICT (bucket, "window") DO UPDATE SET hits = rate_counters.hits + 1
    RETURNING hits INTO v_hits;
    IF v_hits > p_rl_limit THEN
        RETURN '{"rate_limited": true}';
    END IF;
    SELECT p.id, p.annotation, p.instructions, p.assignment_duration_s, p.gold_rate,
           p.qualification_gold_tasks
      INTO prj FROM projects p WHERE p.id = p_project AND p.status = 'active';
    IF NOT FOUND THEN
        RETURN '{"fallback": "project", "counted": true}';
    END IF;
    SELECT s.banned_at, s.qualified_at INTO v_skill_banned, v_qualified
      FROM worker_skills s WHERE s.project_id = p_project AND s.worker_id = v_worker;
    v_has_skill := FOUND;
    IF v_skill_banned IS NOT NULL THEN
        RETURN '{"fallback": "banned", "counted": true}';
    END IF;
    IF prj.qualification_gold_tasks > 0 AND (NOT v_has_skill OR v_qualified IS NULL) THEN
        RETURN '{"fallback": "qualification", "counted": true}';
    END IF;
    IF prj.gold_rate > 0 AND EXISTS (
        SELECT 1 FROM batches b
         WHERE b.project_id = p_project AND b.status = 'gold' AND b.task_count > 0
    ) THEN
        RETURN '{"fallback": "gold", "counted": true}';
    END IF;
    SELECT count(*) INTO v_held FROM assignments a
     WHERE a.worker_id = v_worker AND a.status = 'leased' AND a.project_id = p_project;
    IF v_held >= p_max_live THEN
        RETURN '{"fallback": "held", "counted": true}';
    END IF;
    UPDATE task_queue q SET open_slots = q.open_slots - 1
     WHERE q.task_id = (
        SELECT f.task_id FROM task_queue f
         WHERE f.project_id = p_project AND f.open_slots > 0
           AND NOT EXISTS (
               SELECT 1 FROM assignments a
                WHERE a.task_id = f.task_id AND a.worker_id = v_worker OFFSET 0)
         ORDER BY f.task_id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING q.task_id, q.batch_id INTO v_task, v_batch;
    IF NOT FOUND THEN
        RETURN '{"none": true}';
    END IF;
    SELECT tk.pre_annotation, i.id AS image_id, i.sha256, i.width, i.height
      INTO t FROM tasks tk JOIN images i ON i.id = tk.image_id WHERE tk.id = v_task;
    SELECT b.reward_micros INTO v_reward FROM batches b WHERE b.id = v_batch;
    INSERT INTO assignments (id, task_id, worker_id, project_id, batch_id, status,
                             reward_micros, leased_at, expires_at)
    VALUES (p_id, v_task, v_worker, p_project, v_batch, 'leased', coalesce(v_reward, 0),
            p_now, p_now + make_interval(secs => prj.assignment_duration_s));
    RETURN jsonb_build_object(
        'worker_id', v_worker, 'task_id', v_task, 'image_id', t.image_id,
        'sha256', t.sha256, 'width', t.width, 'height', t.height,
        'annotation', prj.annotation, 'instructions', prj.instructions,
        'pre_annotation', t.pre_annotation, 'reward', coalesce(v_reward, 0),
        'duration_s', prj.assignment_duration_s);
END
$fn$;
"""

SUBMIT = r"""
CREATE OR REPLACE FUNCTION tessera_submit(
    p_key_id text, p_key_hash text, p_id text, p_answer jsonb, p_now timestamptz,
    p_rl_name text, p_rl_window bigint, p_rl_ends bigint, p_rl_limit int
) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    v_worker text; v_role text; v_banned timestamptz;
    a record; t record; r record;
    v_label text; v_names text[]; v_k int; v_doubt float8; v_qualified timestamptz;
    v_has_skill boolean; v_lp float8[]; v_ws text[] := '{}'; v_ls int[] := '{}';
    v_ids text[] := '{}'; v_st text[] := '{}'; v_n int := 0; v_li int; v_acc float8;
    v_p float8; v_off float8; v_diag float8; v_mx float8; v_tot float8; v_best int;
    v_conf float8; v_omin int; v_omax int; v_cmin float8; v_complete boolean;
    v_check text[] := '{}'; v_hits int;
BEGIN
    SELECT ac.id, ac.role, ac.banned_at INTO v_worker, v_role, v_banned
      FROM api_keys k JOIN accounts ac ON ac.id = k.account_id
     WHERE k.key_id = p_key_id AND k.revoked_at IS NULL AND k.key_hash = p_key_hash;
    IF NOT FOUND OR v_role <> 'worker' OR v_banned IS NOT NULL THEN
        RETURN '{"fallback": "caller"}';
    END IF;
    -- The rate limit of app.core.ratelimit (``take``): counted here, once, whatever follows.
    INSERT INTO rate_counters (bucket, "window", hits, ends_at)
    VALUES (p_rl_name || ':' || v_worker, p_rl_window, 1, p_rl_ends)
    ON CONFLICT (bucket, "window") DO UPDATE SET hits = rate_counters.hits + 1
    RETURNING hits INTO v_hits;
    IF v_hits > p_rl_limit THEN
        RETURN '{"rate_limited": true}';
    END IF;
    SELECT x.id, x.task_id, x.project_id, x.status, x.reward_micros, x.leased_at, x.expires_at
      INTO a FROM assignments x WHERE x.id = p_id AND x.worker_id = v_worker
       FOR NO KEY UPDATE;
    IF NOT FOUND OR a.status <> 'leased' OR a.expires_at <= p_now THEN
        RETURN '{"fallback": "assignment", "counted": true}';
    END IF;
    SELECT tk.id, tk.status, tk.is_gold, tk.batch_id, p.annotation, p.auto_accept_s,
           p.min_answer_s, p.qualification_gold_tasks, p.ban_below_accuracy,
           b.overlap_min, b.overlap_max, b.confidence
      INTO t FROM tasks tk JOIN projects p ON p.id = tk.project_id
                   JOIN batches b ON b.id = tk.batch_id
     WHERE tk.id = a.task_id FOR NO KEY UPDATE OF tk;
    IF t.annotation->>'type' IS DISTINCT FROM 'classification' THEN
        RETURN '{"fallback": "type", "counted": true}';
    END IF;
    v_names := ARRAY(SELECT jsonb_array_elements_text(t.annotation->'labels'));
    v_k := coalesce(array_length(v_names, 1), 0);
    IF jsonb_typeof(p_answer) IS DISTINCT FROM 'object'
       OR (SELECT count(*) FROM jsonb_object_keys(p_answer)) <> 1
       OR jsonb_typeof(p_answer->'label') IS DISTINCT FROM 'string'
       OR NOT (p_answer->>'label' = ANY (v_names)) THEN
        RETURN '{"fallback": "answer", "counted": true}';
    END IF;
    v_label := p_answer->>'label';
    IF coalesce(t.min_answer_s, 0) > 0
       AND extract(epoch FROM (p_now - a.leased_at)) < t.min_answer_s THEN
        RETURN '{"fallback": "fast", "counted": true}';
    END IF;
    IF EXISTS (SELECT 1 FROM project_models m
                WHERE m.project_id = a.project_id AND m.state IS NOT NULL) THEN
        RETURN '{"fallback": "model", "counted": true}';
    END IF;
    IF t.is_gold AND t.qualification_gold_tasks > 0 THEN
        SELECT s.qualified_at INTO v_qualified FROM worker_skills s
         WHERE s.project_id = a.project_id AND s.worker_id = v_worker;
        v_has_skill := FOUND;
        IF NOT v_has_skill OR v_qualified IS NULL THEN
            RETURN '{"fallback": "qualification", "counted": true}';
        END IF;
    END IF;
    v_doubt := coalesce((SELECT q.benefit_of_doubt_below FROM quality_settings q WHERE q.id = 1),
                        0.6);

    -- The one-coin posterior of app.quality.engine.ClassificationEngine (no fitted model):
    -- the same operations in the same order, so the same numbers.
    v_lp := array_fill(0.0::float8, ARRAY[v_k]);
    FOR r IN
        SELECT x.id, x.worker_id, x.status,
               CASE WHEN x.id = p_id THEN v_label ELSE x.answer->>'label' END AS label,
               coalesce(s.graded, 0) AS graded, coalesce(s.agreement_sum, 0.0) AS right_sum
          FROM assignments x
          LEFT JOIN worker_skills s
                 ON s.project_id = a.project_id AND s.worker_id = x.worker_id
         WHERE x.task_id = a.task_id
           AND ((x.status IN ('submitted', 'accepted', 'rejected')
                 AND (x.reason IS NULL
                      OR x.reason <> 'excluded: the worker was banned from this project'))
                OR x.id = p_id)
         ORDER BY CASE WHEN x.id = p_id THEN p_now ELSE x.submitted_at END, x.id
    LOOP
        v_n := v_n + 1;
        v_ids := v_ids || r.id::text;
        v_ws := v_ws || r.worker_id::text;
        v_st := v_st || CASE WHEN r.id = p_id THEN 'submitted' ELSE r.status END::text;
        v_li := array_position(v_names, r.label);
        v_ls := v_ls || v_li;
        v_acc := (3.5 + r.right_sum) / ((3.5 + r.right_sum) + ((1.5 + r.graded) - r.right_sum));
        v_p := least(greatest(v_acc, 1.0 / v_k + 1e-3), 1 - 1e-6);
        v_off := (1.0 - v_p) / greatest(v_k - 1, 1);
        v_diag := v_off + (v_p - v_off);
        FOR i IN 1 .. v_k LOOP
            v_lp[i] := v_lp[i] + ln(CASE WHEN i = v_li THEN v_diag ELSE v_off END);
        END LOOP;
    END LOOP;
    v_mx := NULL;
    FOR i IN 1 .. v_k LOOP
        v_lp[i] := ln(1.0 / v_k) + v_lp[i];
        IF v_mx IS NULL OR v_lp[i] > v_mx THEN v_mx := v_lp[i]; END IF;
    END LOOP;
    v_tot := 0.0;
    FOR i IN 1 .. v_k LOOP
        v_lp[i] := exp(v_lp[i] - v_mx);
        v_tot := v_tot + v_lp[i];
    END LOOP;
    v_best := 1;
    FOR i IN 1 .. v_k LOOP
        v_lp[i] := v_lp[i] / v_tot;
        IF v_lp[i] > v_lp[v_best] THEN v_best := i; END IF;
    END LOOP;
    v_conf := v_lp[v_best];

    v_omin := CASE WHEN coalesce(t.overlap_min, 0) = 0 THEN 1 ELSE t.overlap_min END;
    v_omax := coalesce(t.overlap_max, 0);
    v_cmin := CASE WHEN coalesce(t.confidence, 0) = 0 THEN 1.0 ELSE t.confidence END;
    v_complete := NOT t.is_gold AND t.status <> 'completed' AND v_n > 0
                  AND ((v_n >= v_omin AND v_conf >= v_cmin) OR v_n >= v_omax);

    UPDATE tasks SET answer_count = answer_count + 1,
                     consensus = jsonb_build_object('label', v_names[v_best]),
                     confidence = v_conf,
                     status = CASE WHEN v_complete THEN 'completed' ELSE status END,
                     completed_at = CASE WHEN v_complete THEN p_now ELSE completed_at END
     WHERE id = a.task_id;
    IF v_complete THEN
        DELETE FROM task_queue WHERE task_id = a.task_id;
    END IF;

    -- Verdicts: every answer of a task completing now, or this one of a completed task (a
    -- late answer); none for gold (graded later, away from its submit) or an open task.
    WITH judged AS (
        SELECT j.id, j.worker_id, j.status,
               CASE WHEN j.li = v_best THEN 1.0::float8 ELSE 0.0::float8 END AS score,
               CASE WHEN j.li = v_best
                    THEN format('label %s matches the consensus', v_names[j.li])
                    ELSE format('label %s; consensus %s', v_names[j.li], v_names[v_best])
               END AS why
          FROM unnest(v_ids, v_ws, v_st, v_ls) AS j(id, worker_id, status, li)
         WHERE NOT t.is_gold AND (v_complete OR (t.status = 'completed' AND j.id = p_id))
    ), verdicts AS (
        SELECT jd.*,
               CASE WHEN jd.score >= 0.5 OR v_conf < v_doubt THEN 'accepted' ELSE 'rejected'
               END AS verdict,
               CASE WHEN jd.score >= 0.5 THEN jd.why
                    WHEN v_conf < v_doubt
                    THEN format('benefit of the doubt: the consensus is unsure (%s); %s',
                                to_char(round(v_conf::numeric, 2), 'FM0.00'), jd.why)
                    ELSE jd.why
               END AS reason
          FROM judged jd
    ), written AS (
        UPDATE assignments x
           SET status = CASE WHEN x.id = p_id THEN 'submitted' ELSE x.status END,
               answer = CASE WHEN x.id = p_id THEN jsonb_build_object('label', v_label)
                             ELSE x.answer END,
               submitted_at = CASE WHEN x.id = p_id THEN p_now ELSE x.submitted_at END,
               auto_accept_at = CASE WHEN x.id = p_id
                                     THEN p_now + make_interval(secs => t.auto_accept_s)
                                     ELSE x.auto_accept_at END,
               agreement = v.score,
               proposed_verdict = CASE WHEN v.status = 'submitted' THEN v.verdict
                                       ELSE x.proposed_verdict END,
               reason = CASE WHEN v.status = 'submitted' THEN v.reason ELSE x.reason END
          FROM verdicts v WHERE x.id = v.id
        RETURNING x.id
    ), graded AS (
        INSERT INTO worker_skills AS s (project_id, worker_id, graded, agreement_sum,
                                        fast_answers, gold_graded, gold_agreement_sum,
                                        updated_at)
        SELECT a.project_id, v.worker_id, 1, greatest(0.0, least(1.0, v.score)), 0, 0, 0.0,
               p_now
          FROM verdicts v WHERE v_conf >= v_doubt ORDER BY v.worker_id
        ON CONFLICT (project_id, worker_id) DO UPDATE
           SET graded = s.graded + 1, agreement_sum = s.agreement_sum + excluded.agreement_sum,
               updated_at = excluded.updated_at
        RETURNING s.worker_id, s.graded, s.agreement_sum, s.banned_at
    )
    SELECT coalesce(array_agg(g.worker_id), '{}') INTO v_check FROM graded g
     WHERE g.banned_at IS NULL AND g.graded >= 5
       AND (3.5 + g.agreement_sum) / ((3.5 + g.agreement_sum) + ((1.5 + g.graded) - g.agreement_sum))
           < t.ban_below_accuracy;
    IF NOT EXISTS (SELECT 1 FROM assignments x WHERE x.id = p_id AND x.status = 'submitted')
    THEN  -- not judged now: stored alone
        UPDATE assignments
           SET status = 'submitted', answer = jsonb_build_object('label', v_label),
               submitted_at = p_now,
               auto_accept_at = p_now + make_interval(secs => t.auto_accept_s)
         WHERE id = p_id;
    END IF;
    RETURN jsonb_build_object(
        'project_id', a.project_id, 'task_id', a.task_id, 'reward', a.reward_micros,
        'leased_at', a.leased_at, 'expires_at', a.expires_at, 'check_bans', to_jsonb(v_check));
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(LEASE)
    op.execute(SUBMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION IF EXISTS tessera_lease(text, text, text, timestamptz, int, text, text, bigint, bigint, int)"
    )
    op.execute(
        "DROP FUNCTION IF EXISTS tessera_submit(text, text, text, jsonb, timestamptz, text, bigint, bigint, int)"
    )
