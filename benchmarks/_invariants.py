"""The assignment invariants every lease/submit benchmark checks after its run, in SQL.

One row: ``duplicate_pairs`` (a worker given one task twice), ``tasks_over_overlap`` (more live
or answered assignments than the batch's ``overlap.max``), ``wrong_answer_counts`` (a task whose
``answer_count`` is not its answers counted), ``completed_unjudged`` (a completed task with an
answer that has no proposed verdict) — each must be 0 — and ``answers_and_ends``, the number of
assignments that ended (what was checked). Plain SQL, PostgreSQL and SQLite alike. The ledger's
invariants are ``tessera verify-ledger`` / ``app.operator.money.verify_ledger``.
"""

INVARIANTS = """
SELECT
  (SELECT count(*) FROM (SELECT task_id, worker_id FROM assignments
                          GROUP BY 1, 2 HAVING count(*) > 1) d) AS duplicate_pairs,
  (SELECT count(*) FROM (SELECT a.task_id FROM assignments a JOIN batches b ON b.id = a.batch_id
                          WHERE a.status NOT IN ('released', 'expired')
                          GROUP BY a.task_id, b.overlap_max
                         HAVING count(*) > b.overlap_max) o) AS tasks_over_overlap,
  (SELECT count(*) FROM tasks t WHERE t.answer_count <> (
      SELECT count(*) FROM assignments a WHERE a.task_id = t.id
         AND a.status IN ('submitted', 'accepted', 'rejected')
         AND (a.reason IS NULL OR a.reason <> 'excluded: the worker was banned from this project')
  )) AS wrong_answer_counts,
  (SELECT count(*) FROM tasks t WHERE t.status = 'completed' AND EXISTS (
      SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.status = 'submitted'
         AND a.proposed_verdict IS NULL)) AS completed_unjudged,
  (SELECT count(*) FROM assignments WHERE status <> 'leased') AS answers_and_ends
"""

MUST_BE_ZERO = (
    "duplicate_pairs",
    "tasks_over_overlap",
    "wrong_answer_counts",
    "completed_unjudged",
)
