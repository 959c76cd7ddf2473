-- Cheaper rollups (docs/BENCHMARKS.md "Ingest"): on 18.16 the views' exact
-- distinct-count states cost most of every insert into `announces`. This
-- drops the distinct counts nobody reads (user_hour ips, peer_ids, torrents;
-- torrent_hour users; user_network_hour peer_ids, user_agents, torrents) and
-- keeps every column the detectors read (user_hour networks and user_agents
-- with uniqExactMerge, all counts and sums, the keys of all three tables).
-- Per-member distinct peers/IPs/torrents come from the raw table.
-- Run with the ingest stopped: inserts between the DROP and the CREATE of a
-- view would miss its rollup.
DROP TABLE IF EXISTS user_hour_mv;
DROP TABLE IF EXISTS torrent_hour_mv;
DROP TABLE IF EXISTS user_network_hour_mv;

ALTER TABLE user_hour DROP COLUMN ips, DROP COLUMN peer_ids, DROP COLUMN torrents;
ALTER TABLE torrent_hour DROP COLUMN users;
ALTER TABLE user_network_hour DROP COLUMN peer_ids, DROP COLUMN user_agents, DROP COLUMN torrents;

CREATE MATERIALIZED VIEW IF NOT EXISTS user_hour_mv TO user_hour AS
SELECT user_id,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(toUInt64(result = 'refused')) AS refused,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded,
       sumState(credited_uploaded) AS credited_uploaded,
       sumState(credited_downloaded) AS credited_downloaded,
       sumState(toUInt64(seedtime_seconds)) AS seedtime_seconds,
       uniqExactState(network) AS networks,
       uniqExactState(toString(user_agent)) AS user_agents
FROM announces
GROUP BY user_id, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS torrent_hour_mv TO torrent_hour AS
SELECT torrent_id,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded,
       maxState(corrupt) AS corrupt_max,
       sumState(toUInt64(event = 'started')) AS starts,
       sumState(toUInt64(event = 'completed')) AS completions,
       maxState(seeders) AS max_seeders,
       maxState(leechers) AS max_leechers
FROM announces
WHERE result = 'accepted'
GROUP BY torrent_id, hour;

CREATE MATERIALIZED VIEW IF NOT EXISTS user_network_hour_mv TO user_network_hour AS
SELECT user_id,
       network,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded
FROM announces
GROUP BY user_id, network, hour;
