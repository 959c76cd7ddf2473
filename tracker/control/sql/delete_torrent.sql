-- The row stays (the ledger's history refers to it); announces are refused.
-- Deleting a deleted torrent changes nothing (its reason and time stay).
UPDATE torrents SET deleted_at = now(), deleted_reason = nullif($2, ''), updated_at = now()
WHERE id = $1 AND deleted_at IS NULL
