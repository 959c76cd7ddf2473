-- The upload of the members in @users from @from's hour to @until (user_hour
-- rollup): fu_collusion's total_up, for the pairs collusion.go adds up.
SELECT user_id, toUInt64(sumMerge(delta_uploaded)) AS total_up
FROM user_hour
WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
  AND user_id IN (SELECT toUInt64(arrayJoin(@users)))
GROUP BY user_id
