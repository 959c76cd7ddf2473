-- A site record for members $1 with a past on the site: ratioguard observes
-- them from now, or from their first announce if it saw one before.
INSERT INTO ledger_site_history (user_id, observed_from)
SELECT x.id, LEAST(now(), (SELECT min(l.first_announce_at) FROM ledger_user_torrents l WHERE l.user_id = x.id))
FROM unnest($1::bigint[]) AS x (id)
ON CONFLICT (user_id) DO NOTHING
