-- Deltas: the site writes these columns too (bonus purchases, staff). Gazelle
-- creates a member's row when the member registers; an UPDATE (not Ocelot's
-- INSERT … ON DUPLICATE KEY UPDATE) never trips the foreign key to users_main.
UPDATE users_leech_stats u JOIN ({{rows:id,up,down}}) d ON d.id = u.UserID SET
  u.Uploaded = u.Uploaded + d.up,
  u.Downloaded = u.Downloaded + d.down
