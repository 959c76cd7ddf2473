-- Torrent ids of the info hashes $1 the file's snatches and peers name.
SELECT info_hash, id FROM torrents WHERE info_hash = ANY ($1::bytea[])
