-- Every member's client combinations over the window, for judging how rare
-- one is (incremental passes; see fingerprintPopulation): the client family
-- of the peer_id ("-qB" of "-qB4620-", else its first two characters), the
-- key format class and the parameter order without the optional
-- parameters, classified as fu_fingerprint classifies them (query.go,
-- fingerprintClasses) — the columns fu_fingerprint gives a full pass, without the
-- per-announce counts, user agents and versions it does not need — and the
-- time of each combination's last announce in the window, by which
-- fingerprint.go drops it once the window has slid past.
SELECT
    user_id,
    fam AS peer_prefix,
    '' AS ua,
    @fp_key_class AS key_class,
    @fp_param_order AS param_order,
    toUInt64(0) AS announces,
    toUInt64(0) AS uploaded,
    toUInt32(max(last)) AS last_at
FROM (
    SELECT user_id, if(substring(peer_id, 1, 1) = '-', substring(peer_id, 1, 3), substring(peer_id, 1, 2)) AS fam, key, toString(param_order) AS po,
           max(time) AS last
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
         AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE result = 'accepted' AND dual_stack_duplicate = 0
    GROUP BY user_id, fam, key, po
)
GROUP BY user_id, peer_prefix, key_class, param_order
