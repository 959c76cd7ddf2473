// Package reports owns the staff side of cheat reports: staff accounts and
// their sessions, the web UI where reports are read with their evidence and
// charts, the JSON API beside it, and the review action (confirm with a
// verdict, or dismiss) that enforcement later carries out. Every review is
// one audit_log row.
package reports
