-- Raw download under a freeleech token (Ocelot's record_token).
INSERT INTO users_freeleeches (UserID, TorrentID, Time, Downloaded) VALUES {{values}}
ON DUPLICATE KEY UPDATE Downloaded = Downloaded + VALUES(Downloaded)
