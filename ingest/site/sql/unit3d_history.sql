-- Credited (uploaded, downloaded), raw (actual_*) and the client's own
-- counters (client_*) per member x torrent. immune is the site's to set; a
-- new row starts at 0.
INSERT INTO history (user_id, torrent_id, agent, uploaded, actual_uploaded, client_uploaded,
  downloaded, actual_downloaded, client_downloaded, seeder, active, seedtime, immune,
  created_at, updated_at, completed_at) VALUES {{values}}
ON DUPLICATE KEY UPDATE agent = VALUES(agent),
  uploaded = uploaded + VALUES(uploaded), actual_uploaded = actual_uploaded + VALUES(actual_uploaded),
  client_uploaded = VALUES(client_uploaded),
  downloaded = downloaded + VALUES(downloaded), actual_downloaded = actual_downloaded + VALUES(actual_downloaded),
  client_downloaded = VALUES(client_downloaded),
  seeder = VALUES(seeder), active = VALUES(active), seedtime = seedtime + VALUES(seedtime),
  updated_at = VALUES(updated_at), completed_at = COALESCE(completed_at, VALUES(completed_at))
