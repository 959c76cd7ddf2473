-- Members whose site id changes give it up first (two of the file's members
-- may trade site ids; the unique index is checked row by row).
UPDATE users SET site_id = NULL WHERE id = ANY ($1::bigint[]) AND site_id IS NOT NULL
