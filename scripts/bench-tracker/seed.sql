-- 5k members and 10k torrents matching announce.lua.
INSERT INTO users (name, passkey)
SELECT 'bench' || i, lpad(to_hex(i), 32, '0') FROM generate_series(1, 5000) AS i;
INSERT INTO torrents (info_hash, name, size)
SELECT convert_to(lpad(i::text, 20, '0'), 'UTF8'), 'bench torrent ' || i, 1048576
FROM generate_series(1, 10000) AS i;
