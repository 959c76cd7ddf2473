-- Snatches per torrent as the ledger counts them: members who completed it,
-- here or on the site before the cutover (ledger_snatch_record).
SELECT torrent_id, count(*)
FROM ledger_snatch_record
WHERE snatched_at IS NOT NULL
GROUP BY torrent_id
