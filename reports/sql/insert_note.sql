INSERT INTO staff_notes (user_id, staff_id, body) VALUES ($1, $2, $3) RETURNING id
