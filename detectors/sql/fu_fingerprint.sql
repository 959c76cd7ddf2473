-- Client fingerprints per member: peer_id prefix (client and version), user
-- agent, key format class (length + charset) and parameter order, with
-- announce counts. Go compares peer_id against user agent and ranks each
-- (client family, key class, param order) by how many members share it.
SELECT
    user_id,
    substring(peer_id, 1, 8) AS peer_prefix,
    toString(user_agent) AS ua,
    concat(toString(length(key)), multiIf(key = '', 'empty', match(key, '^[0-9A-F]+$'), 'HEX', match(key, '^[0-9a-f]+$'), 'hex', match(key, '^[0-9]+$'), 'dec', 'alnum')) AS key_class,
    toString(param_order) AS param_order,
    toUInt64(count()) AS announces,
    toUInt64(sum(delta_uploaded)) AS uploaded
FROM announces
WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted'
GROUP BY user_id, peer_prefix, ua, key_class, param_order
