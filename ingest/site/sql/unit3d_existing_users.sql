-- Which of the listed site members have a row to write to.
SELECT STRAIGHT_JOIN d.id FROM ({{rows:id}}) d JOIN users u ON u.id = d.id
