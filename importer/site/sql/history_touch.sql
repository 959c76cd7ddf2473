-- Members $1's site record was written: remember how many announces
-- ratioguard had credited them (a later file changes it only while none more).
UPDATE ledger_site_history h
SET record_announces = COALESCE((SELECT t.announces FROM ledger_user_totals t WHERE t.user_id = h.user_id), 0)
WHERE h.user_id = ANY ($1::bigint[])
