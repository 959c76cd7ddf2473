-- Which of the listed site torrents have a row to write to.
SELECT STRAIGHT_JOIN d.id FROM ({{rows:id}}) d JOIN torrents_leech_stats t ON t.TorrentID = d.id
