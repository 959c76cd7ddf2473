-- Deltas: the site writes these columns too (bonus purchases, staff edits).
UPDATE users u JOIN ({{rows:id,up,down}}) d ON d.id = u.id SET
  u.uploaded = u.uploaded + d.up,
  u.downloaded = u.downloaded + d.down
