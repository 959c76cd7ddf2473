// Package reports owns the staff console: staff accounts, their sessions and
// long-lived API tokens; the web UI and its JSON twin under /api (described
// by openapi.json, served at /api/openapi.json); and the review of cheat
// reports (confirm with a verdict, dismiss, amend, reopen, bulk dismiss,
// claim and assign; disable_account proposed by one admin and applied when
// a second admin confirms it) that enforcement later carries out. Every
// change staff make is one audit_log row.
//
// Pages: the queue (filters, orders, counts per detector and severity) and
// the report (evidence in units people read, charts over the real window
// with gaps shown, what enforce will do before confirming); the member
// (ledger raw vs credited, enforcement, reports, invites, seedboxes,
// allowlist, notes, history, and from ClickHouse networks, addresses,
// clients and daily totals: Activity); the torrent (swarm, balance per
// closed day, who unbalances it); search (member, passkey, info_hash or
// name, IP or CIDR); watch lists; dead swarms; the audit log; and for
// admins client rules, seedbox ranges and site promotions (through
// tracker/control), the detector allowlist, staff accounts and API tokens.
//
// Every route is declared with the least role that may use it (Server.routes):
// moderators review and act on reports; admins also change settings and staff
// accounts (/admin, /api/admin). An API token acts within its scopes (read,
// review, admin) and never above its account's role. Sign-in failures are
// limited per client address (behind TrustedProxies, the address they name)
// and per account; every answer is no-store; every request body is capped
// at 64 KiB.
package reports
