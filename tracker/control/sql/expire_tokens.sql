-- Tokens that end on completion whose holder the ledger has seen with
-- nothing left to download on the torrent since the token was given; each
-- one deleted is audited.
WITH gone AS (
    DELETE FROM freeleech_tokens ft
    USING ledger_user_torrents lut
    WHERE ft.expires_on_completion
      AND lut.user_id = ft.user_id AND lut.torrent_id = ft.torrent_id
      AND lut.last_left = 0 AND lut.last_announce_at >= ft.created_at
    RETURNING ft.user_id, ft.torrent_id
)
INSERT INTO audit_log (actor, action, subject_kind, subject_id, reason, after)
SELECT 'control', 'control.token.expire', 'user', gone.user_id::text, 'completed the download',
       json_build_object('torrent_id', gone.torrent_id)::jsonb
FROM gone
