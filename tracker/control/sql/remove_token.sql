DELETE FROM freeleech_tokens WHERE torrent_id = $1 AND user_id = $2
