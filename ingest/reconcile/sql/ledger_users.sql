-- Per member: the totals, less the explicit adjustments (ClickHouse never
-- sees those), plus parked events (applied nowhere in Postgres, loaded in
-- ClickHouse).
WITH adj AS (
    SELECT user_id, sum(credited_uploaded) AS cu, sum(credited_downloaded) AS cd, sum(seedtime_seconds) AS st
    FROM ledger_adjustments GROUP BY user_id
), parked AS (
    SELECT user_id, count(*) AS n, sum(raw_uploaded) AS ru, sum(raw_downloaded) AS rd,
           sum(credited_uploaded) AS cu, sum(credited_downloaded) AS cd,
           sum(seedtime_seconds) AS st, count(*) FILTER (WHERE snatch) AS sn
    FROM ledger_parked_events GROUP BY user_id
), ids AS (
    SELECT user_id FROM ledger_user_totals UNION SELECT user_id FROM parked
)
SELECT ids.user_id,
       (COALESCE(t.announces, 0) + COALESCE(p.n, 0))::text,
       (COALESCE(t.raw_uploaded, 0) + COALESCE(p.ru, 0))::text,
       (COALESCE(t.raw_downloaded, 0) + COALESCE(p.rd, 0))::text,
       (COALESCE(t.credited_uploaded, 0) - COALESCE(a.cu, 0) + COALESCE(p.cu, 0))::text,
       (COALESCE(t.credited_downloaded, 0) - COALESCE(a.cd, 0) + COALESCE(p.cd, 0))::text,
       (COALESCE(t.seedtime_seconds, 0) - COALESCE(a.st, 0) + COALESCE(p.st, 0))::text,
       (COALESCE(t.snatches, 0) + COALESCE(p.sn, 0))::text
FROM ids
LEFT JOIN ledger_user_totals t ON t.user_id = ids.user_id
LEFT JOIN adj a ON a.user_id = ids.user_id
LEFT JOIN parked p ON p.user_id = ids.user_id
