-- Torrent ids of the info hashes $1 the file's snatches name.
SELECT info_hash, id FROM torrents WHERE info_hash = ANY ($1::bytea[])
