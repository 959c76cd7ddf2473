-- Client fingerprints per member: peer_id prefix (client and version), user
-- agent, key format class (hex keys: case, and length beyond 8 — a `%x`
-- key drops leading zeros, so 7 digits and 8 are one class; decimal; other
-- characters, whose length varies with peer_id tails) and parameter order
-- without the parameters clients send only sometimes (event, corrupt, and
-- ipv6/ipv4/ip/localip, which depend on the host's addresses), with
-- announce counts. Go compares peer_id against user agent and ranks each
-- (client family, key class, param order) by how many members share it.
-- Grouped by raw key first, so the pattern matching runs once per key.
SELECT
    user_id,
    peer_prefix,
    ua,
    @fp_key_class AS key_class,
    @fp_param_order AS param_order,
    toUInt64(sum(n)) AS announces,
    toUInt64(sum(up)) AS uploaded
FROM (
    SELECT user_id, substring(peer_id, 1, 8) AS peer_prefix, toString(user_agent) AS ua, key, toString(param_order) AS po,
           count() AS n, sum(delta_uploaded) AS up
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
        AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE result = 'accepted' AND dual_stack_duplicate = 0
      AND user_id IN @active_users
    GROUP BY user_id, peer_prefix, ua, key, po
)
GROUP BY user_id, peer_prefix, ua, key_class, param_order
