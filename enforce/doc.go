// Package enforce owns the enforcement batch jobs (`ratioguard enforce`):
// one pass reads a consistent snapshot (enforce/store), plans every change
// with the policy of enforce/rules, and applies each change in its own
// transaction together with its audit_log row(s) (actor enforce/ratio,
// enforce/hnr, enforce/bonus, enforce/verdicts or enforce/leech; action,
// reason, before and after as JSON). A dry run prints the plan as a table
// (member, rule, current figures, planned change) and writes nothing; a
// second pass over the same state plans nothing. One run at a time (a
// Postgres advisory lock); every time a pass uses comes from one reading of
// its Clock, so tests move time with a FakeClock.
//
// Rules, in the order a pass applies them:
//
//   - Verdicts. A confirmed cheat report whose cheat_reports.verdict lists
//     reverse_credit, disable_leech, disable_account and/or reset_passkey is
//     carried out once (cheat_reports.enforced_at); one audit row per
//     action. The credit reversal goes through ingest/ledger.Adjust with the
//     report id. A verdict that cannot be carried out (no member, no amount,
//     a total that would go negative) is recorded in enforce_error and retried.
//   - Hit-and-run. A snatch (more than 10% of the torrent downloaded, raw)
//     not seeded 72 h within 14 days of completion earns one warning, active
//     28 days after the missed deadline or until the torrent is seeded 72 h.
//     Three active warnings block leeching; hnr.enabled false issues none
//     (a site without the rule). Snatches and seedtime are
//     ratioguard's ledger plus the site's snatch history imported at cutover
//     (view ledger_snatch_record): a snatch completed on the site is judged by
//     the seeding done there plus what ratioguard observed since.
//   - Ratio watch. Required ratio from Gazelle's table and the share of
//     snatches seeded at least 72 h over the last 7 days; the week's seedtime
//     is the cumulative ledger seedtime minus a daily sample taken by enforce
//     (enforce_seed_samples). Below it: 14 days of watch; more than 10 GiB
//     downloaded during the watch or the watch running out blocks leeching
//     until the ratio is back. The figures are lifetime ones: a site member's
//     opening balance (docs/IMPORT.md) is in the ledger totals. A site
//     member whose past ratioguard neither observed nor was given (no
//     opening balance, ledger_site_history) is never put on watch.
//   - Seeding bonus. Whole hours of new seedtime per member × torrent
//     (cursor in enforce_bonus_cursor) earn points_per_hour ×
//     min(max(size_GiB^0.5, 0.1), 10) × (1 + 2/seeders), credited as one
//     ledger adjustment per member and pass. Seeders are counted in Postgres
//     from ledger_user_torrents (last_left = 0, announced within the last
//     hour): the same transaction as the seedtime, and no ClickHouse needed.
//
// Leeching: users.can_leech is off while any block (ratio, hit-and-run,
// verdict) holds and enforce turned it off (enforce_leech_holds); enforce
// turns back on only what it turned off, so a member disabled by hand stays
// disabled. The users NOTIFY trigger tells the tracker within milliseconds.
package enforce
