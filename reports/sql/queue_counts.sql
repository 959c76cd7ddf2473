-- Reports per detector and severity with the queue's status ('' = any).
SELECT detector, severity, count(*)
FROM cheat_reports
WHERE $1 = '' OR status = $1
GROUP BY detector, severity
ORDER BY detector, severity
