-- Site snatches no longer in their member's list.
DELETE FROM ledger_site_snatches s
USING unnest($1::bigint[], $2::bigint[]) AS x (user_id, torrent_id)
WHERE s.user_id = x.user_id AND s.torrent_id = x.torrent_id
