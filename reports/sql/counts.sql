SELECT status, count(*) FROM cheat_reports GROUP BY status
