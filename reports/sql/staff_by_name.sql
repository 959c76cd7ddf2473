SELECT id, name, role, password_hash, disabled FROM staff WHERE name = $1
