UPDATE torrents SET featured = $2, updated_at = now() WHERE id = $1
