DELETE FROM client_rules WHERE id = $1
