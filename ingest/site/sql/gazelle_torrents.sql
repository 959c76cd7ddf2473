-- The site creates a torrent's row when it is uploaded; the write-back adds
-- deltas. last_action is the time of the batch's last announce when the
-- torrent has seeders after it (Ocelot: NOW() when Seeders > 0).
UPDATE torrents_leech_stats t JOIN ({{rows:id,seeders,leechers,snatched,balance,at}}) d ON d.id = t.TorrentID SET
  t.last_action = IF(CAST(t.Seeders AS SIGNED) + d.seeders > 0 AND d.at IS NOT NULL, d.at, t.last_action),
  t.Seeders = GREATEST(CAST(t.Seeders AS SIGNED) + d.seeders, 0),
  t.Leechers = GREATEST(CAST(t.Leechers AS SIGNED) + d.leechers, 0),
  t.Snatched = t.Snatched + d.snatched,
  t.Balance = t.Balance + d.balance
