-- The most leechers each torrent had at any announce in the window (from
-- the torrent_hour rollup): a counter jump is judged per leecher the swarm
-- could have served.
SELECT torrent_id, toUInt64(maxMerge(max_leechers)) AS peak_leechers
FROM torrent_hour
WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until) AND has(@torrents, torrent_id)
GROUP BY torrent_id
