// Package site owns importing a site's members and torrents into ratioguard's
// Postgres at cutover (`ratioguard import site FILE`): it reads the site file
// (JSON, documented in docs/IMPORT.md "Site file"; popgen's setup.json is an
// instance), validates every record before anything is written, and in one
// transaction creates or updates members by name (passkey, class, enabled,
// who invited them, join time, declared seedbox ranges) and torrents by
// info_hash (name, size, promotion, upload time, uploader). A member's past
// on the site comes with it: an opening balance (lifetime uploaded,
// downloaded, seedtime, bonus) entered in the ledger as adjustments with
// reason "opening balance", once per member and revision, and the snatch
// history kept beside ratioguard's ledger for hit-and-run (history.go).
//
// Members keep the passkeys the site gave them (32 characters of
// [0-9A-Za-z]) and the site's own class names; which classes are exempt from
// detection or ratio rules is configuration (detectors' staff_classes,
// enforce's exempt_classes).
//
// An import is idempotent: a row already equal to its record is not
// written, so a second import of the same file changes nothing, fires no
// NOTIFY and reports everything unchanged. Rows are never deleted: members
// and torrents missing from the file are left alone, and so are optional
// fields a record leaves out. Running trackers learn every change from the
// policy triggers (LISTEN/NOTIFY) once the transaction commits.
package site
