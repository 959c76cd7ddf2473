// Package announces owns importing announce logs: it reads a tracker's
// request log — the JSON lines popgen writes (`ts` in ms, `ip`, `path` with
// query, `ua`) or an nginx/Apache "combined" access log, gzipped or not,
// both recognised by their content — merges several files by time, and
// replays every GET of an announce URL through the tracker's own frontend
// parser (tracker/frontend.Parser) and announce core (tracker/core, driven by
// tracker/offline on the log's own clock) into the Kafka topic of announce
// events, so that ingest and the detectors then run on it as on live traffic.
//
// # Lines
//
// Every line ends up in exactly one count: a request replayed (accepted or
// refused by the core, as the live tracker would have), a line skipped by
// kind (blank, a scrape, any other path; in combined logs also a method
// other than GET and a logged connection that carried no HTTP request), or a
// bad line by kind (not JSON, a missing field, a time, an address or a
// request line that does not parse, a target net/http would refuse, a line
// over 64 KiB, out of order). Bad lines are reported with
// file:line — the first Options.MaxReported verbatim, then only counted.
//
// # Time
//
// The core's clock is the time of the line being replayed; peers expire on
// the core's interval as on the live tracker. Files are merged by time (a
// k-way merge; equal times in command-line order). Within a file, lines
// must be in time order within Options.MaxLag (default 2 minutes: web
// servers log a request when it ends, so neighbouring lines are a little out
// of order): a line earlier than the clock by at most MaxLag is replayed at
// the clock (counted as late); one earlier by more is a bad line (out of
// order) and is skipped, since replaying it late would misread the client's
// counters.
//
// # Event ids and re-imports
//
// Events carry the producer id of the import (Options.Producer; the CLI
// derives it from the files' sizes and first and last 64 KiB, or takes
// --producer), and the core numbers them in replay order, so the same files
// in the same order against the same policy give the same event ids and
// bytes (Result.Digest). Ingest deduplicates by event id: importing the same
// log again adds nothing to ClickHouse or the ledger (within the ledger's
// dedupe horizon). A different or grown log is a different input with other
// ids: importing overlapping logs counts the overlap twice.
package announces
