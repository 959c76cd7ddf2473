SELECT id FROM staff WHERE name = $1 AND NOT disabled
