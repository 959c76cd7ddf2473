package ingesttest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/chconn"
)

// SeedPostgres creates members 1..users and torrents 1..torrents (the ids
// the generator uses for known members).
func SeedPostgres(ctx context.Context, pool *pgxpool.Pool, users, torrents int) error {
	_, err := pool.Exec(ctx, `INSERT INTO users (id, name, passkey)
		SELECT i, 'user' || i, md5('pk' || i) FROM generate_series(1, $1::int) AS i`, users)
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO torrents (id, info_hash, name, size)
		SELECT i, decode(lpad(to_hex(i % 256), 2, '0'), 'hex') || decode(repeat(lpad(to_hex(i % 256), 2, '0'), 15), 'hex')
		          || int4send(i), 'torrent' || i, 1 << 30
		FROM generate_series(1, $1::int) AS i`, torrents)
	if err != nil {
		return fmt.Errorf("seed torrents: %w", err)
	}
	return nil
}

// CheckClickHouse compares the raw table, announce_ids and the rollups with
// the truth and returns every mismatch. The rollups are first brought up to
// date with the raw table by a rollup builder (as the ingest's own builder
// would a few seconds later), which must leave no hour stale.
func CheckClickHouse(ctx context.Context, conn chconn.Conn, tr *Truth) error {
	var errs []error
	if err := refreshRollups(ctx, conn); err != nil {
		errs = append(errs, err)
	}
	expect := func(what, sql string, want uint64) {
		var got uint64
		if err := conn.QueryRow(ctx, sql).Scan(&got); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		} else if got != want {
			errs = append(errs, fmt.Errorf("%s = %d, want %d", what, got, want))
		}
	}
	expect("raw rows", "SELECT count() FROM announces", tr.Events)
	expect("raw distinct ids", "SELECT uniqExact(event_id) FROM announces", tr.Events)
	expect("announce_ids rows", "SELECT count() FROM announce_ids", tr.Events)
	expect("raw accepted member rows", "SELECT count() FROM announces WHERE result = 'accepted' AND user_id != 0", tr.Accepted)
	expect("user_hour announces", "SELECT countMerge(announces) FROM user_hour", tr.Events)
	expect("user_hour delta_uploaded", "SELECT sumMerge(delta_uploaded) FROM user_hour", tr.DeltaUp)
	expect("user_hour credited_uploaded", "SELECT sumMerge(credited_uploaded) FROM user_hour", tr.CredUpAll)
	expect("user_network_hour announces", "SELECT countMerge(announces) FROM user_network_hour", tr.Events)
	expect("user_network_hour delta_uploaded", "SELECT sumMerge(delta_uploaded) FROM user_network_hour", tr.DeltaUp)
	expect("torrent_hour delta_uploaded", "SELECT sumMerge(delta_uploaded) FROM torrent_hour", tr.DeltaUp)

	got := map[uint64]Sums{}
	rows, err := conn.Query(ctx, `SELECT user_id, count(), sum(delta_uploaded), sum(delta_downloaded),
		sum(credited_uploaded), sum(credited_downloaded), sum(toUInt64(seedtime_seconds)), sum(toUInt64(snatch))
		FROM announces WHERE result = 'accepted' AND user_id != 0 GROUP BY user_id`)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("per-user sums: %w", err))...)
	}
	for rows.Next() {
		var u uint64
		var s Sums
		if err := rows.Scan(&u, &s.Announces, &s.RawUp, &s.RawDown, &s.CredUp, &s.CredDown, &s.Seedtime, &s.Snatches); err != nil {
			rows.Close()
			return fmt.Errorf("scan per-user sums: %w", err)
		}
		got[u] = s
	}
	rows.Close()
	errs = append(errs, compareUsers("clickhouse", got, tr.ByUser, nil)...)
	return errors.Join(errs...)
}

// refreshRollups rebuilds every stale rollup hour, then checks that none is
// left stale.
func refreshRollups(ctx context.Context, conn chconn.Conn) error {
	b := rollup.New(conn, nil)
	defer func() { _ = b.Close(context.WithoutCancel(ctx)) }()
	if _, err := b.Refresh(ctx, time.Time{}); err != nil {
		return fmt.Errorf("refresh rollups: %w", err)
	}
	stale, err := b.Stale(ctx, time.Time{})
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		return fmt.Errorf("rollups still differ from the raw table after a refresh in %d hours, first %+v", len(stale), stale[0])
	}
	return nil
}

// CheckLedger compares the ledger (totals, history, parked events) with the truth.
func CheckLedger(ctx context.Context, pool *pgxpool.Pool, tr *Truth) error {
	var errs []error
	totals, err := ledgerSums(ctx, pool, `SELECT user_id, announces, raw_uploaded::text, raw_downloaded::text,
		credited_uploaded::text, credited_downloaded::text, seedtime_seconds, snatches FROM ledger_user_totals`)
	if err != nil {
		return err
	}
	known := map[uint64]bool{}
	for u := range tr.ByUser {
		known[u] = tr.Known[u]
	}
	errs = append(errs, compareUsers("ledger totals", totals, tr.ByUser, known)...)
	history, err := ledgerSums(ctx, pool, `SELECT user_id, sum(announces), sum(raw_uploaded)::text, sum(raw_downloaded)::text,
		sum(credited_uploaded)::text, sum(credited_downloaded)::text, sum(seedtime_seconds), count(snatched_at)
		FROM ledger_user_torrents GROUP BY user_id`)
	if err != nil {
		return err
	}
	// count(snatched_at) counts pairs snatched, not snatch events: compare it separately.
	for u, s := range history {
		s.Snatches = 0
		history[u] = s
	}
	byUserNoSnatch := map[uint64]*Sums{}
	for u, s := range tr.ByUser {
		c := *s
		c.Snatches = 0
		byUserNoSnatch[u] = &c
	}
	errs = append(errs, compareUsers("ledger history", history, byUserNoSnatch, known)...)
	unknown := map[uint64]bool{}
	for u := range tr.ByUser {
		unknown[u] = !tr.Known[u]
	}
	parked, err := ledgerSums(ctx, pool, `SELECT user_id, count(*), sum(raw_uploaded)::text, sum(raw_downloaded)::text,
		sum(credited_uploaded)::text, sum(credited_downloaded)::text, sum(seedtime_seconds), count(*) FILTER (WHERE snatch)
		FROM ledger_parked_events GROUP BY user_id`)
	if err != nil {
		return err
	}
	errs = append(errs, compareUsers("ledger parked", parked, tr.ByUser, unknown)...)
	var pairs, applied int64
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM ledger_user_torrents), (SELECT count(*) FROM ledger_applied_events)").Scan(&pairs, &applied); err != nil {
		return fmt.Errorf("count ledger rows: %w", err)
	}
	if pairs != int64(len(tr.Pairs)) {
		errs = append(errs, fmt.Errorf("ledger_user_torrents rows = %d, want %d", pairs, len(tr.Pairs)))
	}
	if applied != int64(tr.Accepted) {
		errs = append(errs, fmt.Errorf("ledger_applied_events rows = %d, want %d", applied, tr.Accepted))
	}
	return errors.Join(errs...)
}

func ledgerSums(ctx context.Context, pool *pgxpool.Pool, sql string) (map[uint64]Sums, error) {
	rows, err := pool.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer rows.Close()
	out := map[uint64]Sums{}
	for rows.Next() {
		var u, n, seed, sn int64
		var ru, rd, cu, cd string
		if err := rows.Scan(&u, &n, &ru, &rd, &cu, &cd, &seed, &sn); err != nil {
			return nil, fmt.Errorf("scan ledger: %w", err)
		}
		out[uint64(u)] = Sums{Announces: uint64(n), RawUp: atou(ru), RawDown: atou(rd), CredUp: atou(cu),
			CredDown: atou(cd), Seedtime: uint64(seed), Snatches: uint64(sn)}
	}
	return out, rows.Err()
}

func atou(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 1<<64 - 1 // never equal to a real sum: the mismatch is reported
	}
	return v
}

// compareUsers reports every member whose sums differ; only members with
// want[u] set are expected when filter is non-nil.
func compareUsers(what string, got map[uint64]Sums, want map[uint64]*Sums, filter map[uint64]bool) []error {
	var errs []error
	for u, w := range want {
		if filter != nil && !filter[u] {
			continue
		}
		if g := got[u]; g != *w {
			errs = append(errs, fmt.Errorf("%s user %d: got %+v, want %+v", what, u, g, *w))
		}
	}
	for u := range got {
		if _, ok := want[u]; !ok || filter != nil && !filter[u] {
			errs = append(errs, fmt.Errorf("%s: unexpected user %d: %+v", what, u, got[u]))
		}
	}
	if len(errs) > 5 {
		errs = append(errs[:5], fmt.Errorf("%s: ... %d more users differ", what, len(errs)-5))
	}
	return errs
}
