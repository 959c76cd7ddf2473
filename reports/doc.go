// Package reports owns the staff side of cheat reports: staff accounts and
// their sessions, the web UI where reports are read with their evidence and
// charts, the JSON API beside it, and the review action (confirm with a
// verdict, or dismiss) that enforcement later carries out. Every review is
// one audit_log row.
//
// Every route is declared with the least role that may use it (Server.routes):
// moderators review and act on reports; admins may too, and also give the
// disable_account verdict and manage staff accounts (/admin, /api/admin).
// Sign-in failures are limited per client address (behind TrustedProxies,
// the address they name) and per account; every answer is no-store; every
// request body is capped at 64 KiB.
package reports
