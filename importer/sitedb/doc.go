// Package sitedb owns reading a running site application's own database
// (Gazelle/OPS, UNIT3D, NexusPHP on MariaDB or MySQL) at cutover, for
// `ratioguard import site --from gazelle|unit3d|nexusphp DSN`: it reads the
// site's members (their existing passkeys, class or group names, enabled,
// inviters, site ids, NexusPHP report secrets) and torrents (info_hash,
// name, size, promotion and its end, uploader, site ids) and maps them to
// the site file's records (docs/IMPORT.md "Site file").
//
// It owns only the reading and the mapping: the records are checked and
// written by importer/site exactly as a site file is (site.Parse, then
// site.Import in one transaction), so a cutover from the database and one
// from a file refuse the same records and change the same rows. A record
// the checks refuse is reported with the site's table and row id
// ("users_main ID 12 \"bob\": passkey: ..."), never dropped silently.
//
// What the control protocols' tables keep and the site file does not —
// members who may not leech, UNIT3D's groups and blocked members,
// freeleech tokens, client lists, personal freeleech, featured torrents —
// is read into Snapshot.Control and given to the tracker by ApplyControl
// through the control service (tracker/control), with the mapping the
// Ocelot and UNIT3D adapters use, after the import's transaction.
package sitedb
