-- NexusPHP's inline check_cheater, replayed per announce on raw deltas:
-- rate = this announce's upload delta / its interval (interval > 10 s).
-- Levels divide the speed limits (1 conservative … 4 paranoid); the two
-- leecher rules run above level 1 only.
SELECT
    user_id,
    toUInt64(countIf(delta_uploaded > 1073741824 AND delta_uploaded / seconds_since_previous > 1048576000 / @level)) AS disable_hits,
    toUInt64(countIf(delta_uploaded > 1073741824 AND delta_uploaded / seconds_since_previous > 104857600 / @level)) AS high_rate_hits,
    toUInt64(countIf(@level > 1 AND delta_uploaded > 1073741824 AND delta_uploaded / seconds_since_previous > 1048576 AND leechers < 2 * @level)) AS few_leecher_hits,
    toUInt64(countIf(@level > 1 AND delta_uploaded > 10485760 AND delta_uploaded / seconds_since_previous > 102400 AND leechers = 0)) AS no_leecher_hits,
    toFloat64(max(delta_uploaded / seconds_since_previous)) AS max_rate,
    groupUniqArray(torrent_id) AS torrents
FROM announces
WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
  AND time >= toDateTime(@from) AND time < toDateTime(@until)
  AND result = 'accepted' AND dual_stack_duplicate = 0 AND seconds_since_previous > 10
  AND user_id IN @active_users
GROUP BY user_id
HAVING disable_hits + high_rate_hits + few_leecher_hits + no_leecher_hits > 0
