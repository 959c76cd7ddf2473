INSERT INTO peers (user_id, torrent_id, peer_id, ip, port, agent, uploaded, downloaded, `left`,
  seeder, active, visible, connectable, created_at, updated_at) VALUES {{values}}
ON DUPLICATE KEY UPDATE ip = VALUES(ip), port = VALUES(port), agent = VALUES(agent),
  uploaded = VALUES(uploaded), downloaded = VALUES(downloaded), `left` = VALUES(`left`),
  seeder = VALUES(seeder), active = VALUES(active), visible = VALUES(visible), updated_at = VALUES(updated_at)
