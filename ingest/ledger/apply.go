package ledger

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// Park reasons.
const (
	ParkUnknownUser    = "unknown user"
	ParkUnknownTorrent = "unknown torrent"
	ParkTooOld         = "older than the dedupe horizon"
)

// apply claims the batch's accepted events inside tx and queues on out the
// statements that apply or park them (sent with the offset in one round trip).
func (l *Ledger) apply(ctx context.Context, tx pgx.Tx, b *consumer.Batch, out *pgx.Batch) error {
	cands := make([]consumer.Event, 0, len(b.Events))
	ids := make([][]byte, 0, len(b.Events))
	seen := make(map[[16]byte]bool, len(b.Events))
	for _, ev := range b.Events {
		a := ev.A
		if a.GetResult() != events.Result_RESULT_ACCEPTED || a.GetUserId() == 0 {
			continue
		}
		id := [16]byte(a.GetEventId())
		if seen[id] {
			continue
		}
		seen[id] = true
		cands = append(cands, ev)
		ids = append(ids, a.GetEventId())
	}
	if len(cands) == 0 {
		return nil
	}
	claimed, err := claim(ctx, tx, ids)
	if err != nil {
		return err
	}
	var now time.Time
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
		return fmt.Errorf("read postgres clock: %w", err)
	}
	fresh := cands[:0]
	for _, ev := range cands {
		if claimed[[16]byte(ev.A.GetEventId())] {
			fresh = append(fresh, ev)
		}
	}
	if err := l.learn(ctx, tx, fresh); err != nil {
		return err
	}
	agg := newAggregate()
	parked := parkRows{}
	oldest := now.Add(-l.horizon)
	for _, ev := range fresh {
		a := ev.A
		switch {
		case !l.known(l.users, int64(a.GetUserId())):
			parked.add(ev, ParkUnknownUser)
		case !l.known(l.torrents, int64(a.GetTorrentId())):
			parked.add(ev, ParkUnknownTorrent)
		case time.Unix(0, a.GetTimeUnixNano()).Before(oldest):
			parked.add(ev, ParkTooOld)
		default:
			agg.add(a)
		}
	}
	l.queue(out, b, agg, &parked)
	return nil
}

func claim(ctx context.Context, tx pgx.Tx, ids [][]byte) (map[[16]byte]bool, error) {
	// In key order: the primary key's B-tree is written left to right.
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i], ids[j]) < 0 })
	rs, err := tx.Query(ctx, claimEventsSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("claim event ids: %w", err)
	}
	defer rs.Close()
	out := make(map[[16]byte]bool, len(ids))
	for rs.Next() {
		var id []byte
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan claimed event id: %w", err)
		}
		out[[16]byte(id)] = true
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("claim event ids: %w", err)
	}
	return out, nil
}

// learn looks up the members and torrents of evs not yet known to exist.
func (l *Ledger) learn(ctx context.Context, tx pgx.Tx, evs []consumer.Event) error {
	var users, torrents []int64
	l.mu.Lock()
	for _, ev := range evs {
		if u := int64(ev.A.GetUserId()); !l.users[u] {
			users = append(users, u)
		}
		if t := int64(ev.A.GetTorrentId()); !l.torrents[t] {
			torrents = append(torrents, t)
		}
	}
	l.mu.Unlock()
	if err := l.lookup(ctx, tx, knownUsersSQL, users, l.users); err != nil {
		return fmt.Errorf("look up members: %w", err)
	}
	if err := l.lookup(ctx, tx, knownTorrentsSQL, torrents, l.torrents); err != nil {
		return fmt.Errorf("look up torrents: %w", err)
	}
	return nil
}

func (l *Ledger) lookup(ctx context.Context, tx pgx.Tx, sql string, ids []int64, into map[int64]bool) error {
	if len(ids) == 0 {
		return nil
	}
	rs, err := tx.Query(ctx, sql, ids)
	if err != nil {
		return err
	}
	found, err := pgx.CollectRows(rs, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	l.mu.Lock()
	for _, id := range found {
		into[id] = true
	}
	l.mu.Unlock()
	return nil
}

func (l *Ledger) known(m map[int64]bool, id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return m[id]
}

// queue adds the upserts and the parked events to out.
func (l *Ledger) queue(out *pgx.Batch, b *consumer.Batch, agg *aggregate, parked *parkRows) {
	if len(agg.users) > 0 {
		out.Queue(upsertTotalsSQL, agg.totalsArgs()...)
		out.Queue(upsertUserTorrentsSQL, agg.pairArgs()...)
	}
	if len(parked.id) > 0 {
		out.Queue(parkEventsSQL, parked.args(b)...)
		l.log.Warn("parked ledger events", "count", len(parked.id), "partition", b.Partition)
	}
}

// sums is what a batch adds to one total.
type sums struct {
	rawUp, rawDown, credUp, credDown, seedtime, announces, snatches int64
	snatchedAt, first, last                                         time.Time
	lastLeft                                                        int64
}

func (s *sums) add(a *events.Announce, t time.Time) {
	s.rawUp += i64(a.GetDeltaUploaded())
	s.rawDown += i64(a.GetDeltaDownloaded())
	s.credUp += i64(a.GetCreditedUploaded())
	s.credDown += i64(a.GetCreditedDownloaded())
	s.seedtime += int64(a.GetSeedtimeSeconds())
	s.announces++
	if a.GetSnatch() {
		s.snatches++
		if s.snatchedAt.IsZero() || t.Before(s.snatchedAt) {
			s.snatchedAt = t
		}
	}
	if s.first.IsZero() || t.Before(s.first) {
		s.first = t
	}
	if !t.Before(s.last) {
		s.last, s.lastLeft = t, i64(a.GetLeft())
	}
}

// aggregate sums a batch per member and per member × torrent.
type aggregate struct {
	users map[int64]*sums
	pairs map[[2]int64]*sums
}

func newAggregate() *aggregate {
	return &aggregate{users: map[int64]*sums{}, pairs: map[[2]int64]*sums{}}
}

func (g *aggregate) add(a *events.Announce) {
	t := time.Unix(0, a.GetTimeUnixNano())
	u, tr := int64(a.GetUserId()), int64(a.GetTorrentId())
	if g.users[u] == nil {
		g.users[u] = &sums{}
	}
	g.users[u].add(a, t)
	k := [2]int64{u, tr}
	if g.pairs[k] == nil {
		g.pairs[k] = &sums{}
	}
	g.pairs[k].add(a, t)
}

// totalsArgs are the upsert_totals.sql arrays, sorted by member so that
// concurrent writers lock rows in one order.
func (g *aggregate) totalsArgs() []any {
	keys := make([]int64, 0, len(g.users))
	for u := range g.users {
		keys = append(keys, u)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	cols := make([][]int64, 8)
	for _, u := range keys {
		s := g.users[u]
		for i, v := range []int64{u, s.rawUp, s.rawDown, s.credUp, s.credDown, s.seedtime, s.announces, s.snatches} {
			cols[i] = append(cols[i], v)
		}
	}
	out := make([]any, len(cols))
	for i := range cols {
		out[i] = cols[i]
	}
	return out
}

func (g *aggregate) pairArgs() []any {
	keys := make([][2]int64, 0, len(g.pairs))
	for k := range g.pairs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	n := len(keys)
	ints := make([][]int64, 10)
	snatched, first, last := make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
	for i, k := range keys {
		s := g.pairs[k]
		for j, v := range []int64{k[0], k[1], s.rawUp, s.rawDown, s.credUp, s.credDown, s.seedtime, s.lastLeft, s.announces} {
			ints[j] = append(ints[j], v)
		}
		snatched[i] = pgtype.Timestamptz{Time: s.snatchedAt, Valid: !s.snatchedAt.IsZero()}
		first[i] = pgtype.Timestamptz{Time: s.first, Valid: true}
		last[i] = pgtype.Timestamptz{Time: s.last, Valid: true}
	}
	return []any{ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], snatched, first, last, ints[7], ints[8]}
}

// parkRows are the park_events.sql arrays.
type parkRows struct {
	id                                      [][]byte
	reason                                  []string
	user, torrent, up, down, cu, cd, st, at []int64
	when                                    []time.Time
	snatch                                  []bool
}

func (p *parkRows) add(ev consumer.Event, reason string) {
	a := ev.A
	p.id = append(p.id, a.GetEventId())
	p.reason = append(p.reason, reason)
	p.user = append(p.user, int64(a.GetUserId()))
	p.torrent = append(p.torrent, int64(a.GetTorrentId()))
	p.when = append(p.when, time.Unix(0, a.GetTimeUnixNano()))
	p.up = append(p.up, i64(a.GetDeltaUploaded()))
	p.down = append(p.down, i64(a.GetDeltaDownloaded()))
	p.cu = append(p.cu, i64(a.GetCreditedUploaded()))
	p.cd = append(p.cd, i64(a.GetCreditedDownloaded()))
	p.st = append(p.st, int64(a.GetSeedtimeSeconds()))
	p.snatch = append(p.snatch, a.GetSnatch())
	p.at = append(p.at, ev.Offset)
}

func (p *parkRows) args(b *consumer.Batch) []any {
	return []any{p.id, p.reason, p.user, p.torrent, p.when, p.up, p.down, p.cu, p.cd, p.st, p.snatch,
		b.Topic, b.Partition, p.at}
}

// i64 caps a client-reported counter at the largest BIGINT.
func i64(v uint64) int64 { return int64(min(v, math.MaxInt64)) }
