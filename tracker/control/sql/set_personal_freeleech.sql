INSERT INTO personal_freeleech (user_id, until) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET until = EXCLUDED.until
