-- Deltas, as UNIT3D-Announce writes them (the site recounts peers itself).
UPDATE torrents t JOIN ({{rows:id,seeders,leechers,completed,balance}}) d ON d.id = t.id SET
  t.seeders = GREATEST(t.seeders + d.seeders, 0),
  t.leechers = GREATEST(t.leechers + d.leechers, 0),
  t.times_completed = t.times_completed + d.completed,
  t.balance = COALESCE(t.balance, 0) + d.balance
