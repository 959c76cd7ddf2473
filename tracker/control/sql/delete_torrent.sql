-- The row stays (the ledger's history refers to it); announces are refused.
UPDATE torrents SET deleted_at = now(), deleted_reason = nullif($2, ''), updated_at = now()
WHERE id = $1
