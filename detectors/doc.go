// Package detectors owns cheat detection: each detector is SQL over the raw
// ClickHouse `announces` table and its rollups (raw deltas, never promotion
// credit) plus a little Go that turns rows into explainable findings. A
// Runner runs every detector over a window, drops exempt subjects (staff
// classes, allowlisted members and networks; declared seedboxes are removed
// from network counts), and a Store upserts the findings as cheat reports in
// Postgres: one open report per detector and subject, new evidence updates
// it, a dismissed report stays dismissed unless the evidence gets materially
// worse. A Scheduler repeats passes on an interval, incrementally.
//
// The SQL stays inside the subset ClickHouse 18.16 and current LTS accept
// (DESIGN.md): no window functions, no neighbor, no CTE tables.
package detectors
