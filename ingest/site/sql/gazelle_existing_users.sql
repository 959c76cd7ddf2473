-- Which of the listed site members have a row to write to.
SELECT STRAIGHT_JOIN d.id FROM ({{rows:id}}) d JOIN users_leech_stats u ON u.UserID = d.id
