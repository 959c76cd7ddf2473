UPDATE ledger_user_torrents
SET credited_uploaded   = credited_uploaded + $3,
    credited_downloaded = credited_downloaded + $4
WHERE user_id = $1 AND torrent_id = $2
RETURNING credited_uploaded < 0 OR credited_downloaded < 0
