-- Members holding a freeleech token, per torrent; $1 NULL loads all, else
-- one torrent's. (Read apart from torrents.sql: a join with the tokens
-- aggregated costs the full load several times more.)
SELECT torrent_id, user_id
FROM freeleech_tokens
WHERE $1::bigint IS NULL OR torrent_id = $1
