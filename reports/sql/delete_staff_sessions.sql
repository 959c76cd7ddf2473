DELETE FROM staff_sessions WHERE staff_id = $1
