-- +goose Up
-- Members imported from a running site (importer/site) keep their passkeys
-- and classes. Real sites' passkeys are 32 characters of [0-9A-Za-z]
-- (Gazelle and NexusPHP: lowercase hex or a-z0-9; UNIT3D: mixed case), and a
-- class is the site's own name ("Power User", "Nexus Master", "SysOp"):
-- which classes are exempt from detection or ratio rules is configuration
-- (detectors' staff_classes, enforce's exempt_classes), not a fixed list here.
-- Every row valid under 00001's checks is valid under these.
ALTER TABLE users DROP CONSTRAINT users_passkey_check;
ALTER TABLE users ADD CONSTRAINT users_passkey_check CHECK (passkey ~ '^[0-9A-Za-z]{32}$');
ALTER TABLE users DROP CONSTRAINT users_class_check;
ALTER TABLE users ADD CONSTRAINT users_class_check CHECK (class <> '' AND class = btrim(class));

-- +goose Down
-- Fails while a member has a passkey or class the old checks refuse.
ALTER TABLE users DROP CONSTRAINT users_class_check;
ALTER TABLE users ADD CONSTRAINT users_class_check
    CHECK (class IN ('member', 'power_user', 'elite', 'vip', 'uploader', 'staff'));
ALTER TABLE users DROP CONSTRAINT users_passkey_check;
ALTER TABLE users ADD CONSTRAINT users_passkey_check CHECK (passkey ~ '^[0-9a-f]{32}$');
