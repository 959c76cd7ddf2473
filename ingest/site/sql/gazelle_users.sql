-- Deltas: the site writes these columns too (Ocelot's own statement).
INSERT INTO users_leech_stats (UserID, Uploaded, Downloaded) VALUES {{values}}
ON DUPLICATE KEY UPDATE Uploaded = Uploaded + VALUES(Uploaded), Downloaded = Downloaded + VALUES(Downloaded)
