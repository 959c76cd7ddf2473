DELETE FROM personal_freeleech WHERE user_id = $1
