// Package site owns the write-back: a sink of the announces topic (beside
// the ClickHouse loader and the Postgres ledger) that writes credited
// per-member deltas, per-torrent seeders, leechers, snatches and balance,
// and the site's peer and history rows into a site application's own
// database (Gazelle/OPS or UNIT3D on MariaDB), exactly once: each batch's
// rows, its claimed event ids and its Kafka offset are one transaction of
// the site's database. Ratioguard's member and torrent ids become the site's
// through users.site_id and torrents.site_id in Postgres; announces of a
// member or torrent without one are skipped and counted. For Gazelle it
// also calls the site back to expire freeleech tokens that a completion
// used up, as Ocelot does (tools.php?type=expiretoken). See docs/INTEGRATION.md.
package site

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/internal/sqlfile"
	"github.com/ratioguard/ratioguard/schemas/events"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var q = sqlfile.Queries(sqlFS)

// The sites the write-back knows.
const (
	SiteGazelle = "gazelle"
	SiteUNIT3D  = "unit3d"
)

// DefaultPeerTimeout is how long after its last announce a peer no longer
// counts as a seeder or leecher: the tracker drops it after twice the
// announce interval (30 min by default).
const DefaultPeerTimeout = time.Hour

// reapEvery is how often (in announce time) the peers the tracker dropped
// are looked for.
const reapEvery = time.Minute

// DefaultHorizon is how long applied event ids are remembered (the ledger's
// horizon): older announces are skipped, since a duplicate of one could no
// longer be recognised.
const DefaultHorizon = 30 * 24 * time.Hour

// mapping is one site's schema: how a batch's plan becomes its rows.
type mapping interface {
	// name is the site, and the prefix of its statements (see stmt):
	// prior_peers selects (torrent, user, peer_id, active, seeder) of the
	// listed peers, locking them; stale_peers (torrent, user, peer_id,
	// seeder) of the active peers last seen before staleArg(cutoff),
	// locking them; deactivate_peers marks the listed peers inactive;
	// existing_users and existing_torrents select the listed ids the
	// site has a row for.
	name() string
	staleArg(cut time.Time) any
	// byUser: the peer key lists are (user, torrent, peer_id), not
	// (torrent, user, peer_id) (the site's primary key order).
	byUser() bool
	// rows is how many site rows write writes for p.
	rows(p *plan) int64
	// write writes the plan; missing counts rows the site should have
	// had (its users or torrents rows) and did not.
	write(ctx context.Context, tx *sql.Tx, p *plan) (missing int64, err error)
}

// stmt is the site's statement of that name.
func stmt(m mapping, name string) string { return q(m.name() + "_" + name) }

// sinkName is the write-back's consumer name for m's site (its offsets'
// consumer column, its consumer group and its metrics' sink label).
func sinkName(m mapping) string { return "writeback-" + m.name() }

// ValidSite says whether the write-back knows site.
func ValidSite(site string) error {
	_, err := mappingFor(site)
	return err
}

func mappingFor(site string) (mapping, error) {
	switch strings.ToLower(strings.TrimSpace(site)) {
	case SiteGazelle:
		return gazelle{}, nil
	case SiteUNIT3D:
		return unit3d{}, nil
	}
	return nil, fmt.Errorf("unknown site %q: want %s or %s", site, SiteGazelle, SiteUNIT3D)
}

// Stats counts what the write-back did with the announces it read.
type Stats struct {
	Applied        int64 // written to the site
	Duplicates     int64 // event ids applied before (producer retries, spool replays)
	UnknownMember  int64 // member without a site_id
	UnknownTorrent int64 // torrent without a site_id
	TooOld         int64 // older than the dedupe horizon
	MissingRows    int64 // site rows (users, torrents) that were not there to update
	Rows           int64 // site rows written (inserted or updated)
	Expiries       int64 // token expiries queued for the site's callback (Gazelle)
}

// Writer is the write-back sink of one site's database.
type Writer struct {
	db      *sql.DB
	ids     *siteIDs
	m       mapping
	name    string
	horizon time.Duration
	log     *slog.Logger
	statsMu sync.Mutex
	stats   Stats
	// PeerTimeout: a peer silent this long (in announce time) is inactive
	// and leaves its torrent's seeders or leechers. Set before the first Store.
	PeerTimeout time.Duration
	// Metrics, if set, records each stored batch. Set before the first Store.
	Metrics *Metrics

	reapMu   sync.Mutex
	lastReap time.Time
}

// New returns the write-back of site (gazelle or unit3d) into db, mapping
// ids through ratioguard's Postgres pool; horizon 0 is DefaultHorizon.
// Call EnsureTables before the first Store.
func New(site string, db *sql.DB, pool *pgxpool.Pool, horizon time.Duration, log *slog.Logger) (*Writer, error) {
	m, err := mappingFor(site)
	if err != nil {
		return nil, err
	}
	if horizon <= 0 {
		horizon = DefaultHorizon
	}
	if log == nil {
		log = slog.Default()
	}
	return &Writer{db: db, ids: newSiteIDs(pool), m: m, name: sinkName(m), horizon: horizon,
		log: log.With("site", m.name()), PeerTimeout: DefaultPeerTimeout}, nil
}

// EnsureTables creates the write-back's own tables in the site's database
// (offsets, claimed event ids, queued token expiries) if they are missing.
func (w *Writer) EnsureTables(ctx context.Context) error {
	for ddl := range strings.SplitSeq(q("tables"), ";") {
		if !strings.Contains(ddl, "CREATE") {
			continue
		}
		if _, err := w.db.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("create the write-back's tables in the site database: %w", err)
		}
	}
	return nil
}

// Name implements consumer.Sink.
func (w *Writer) Name() string { return w.name }

// Stats returns the counts so far.
func (w *Writer) Stats() Stats {
	w.statsMu.Lock()
	defer w.statsMu.Unlock()
	return w.stats
}

// Resume implements consumer.Sink.
func (w *Writer) Resume(ctx context.Context, topic string, p int32) (int64, error) {
	var next int64
	err := w.db.QueryRowContext(ctx, q("stored_offset"), w.name, topic, p).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read write-back offset of %s/%d: %w", topic, p, err)
	}
	return next, nil
}

// Store implements consumer.Sink. In one transaction of the site's
// database: lock the partition's offset row and check it is b.Prev (else
// ErrFenced); claim the event ids of the batch's accepted announces of
// members and torrents the site knows (ids claimed before are duplicates);
// write what the fresh ones add up to; store b.Next.
func (w *Writer) Store(ctx context.Context, b *consumer.Batch) error {
	cands := w.candidates(b)
	if err := w.ids.resolve(ctx, cands); err != nil {
		return err
	}
	// Read committed: no gap locks between partitions' transactions. Rows
	// that two partitions may both write (torrents, reaped peers) are
	// locked row by row, in key order; a member's announces and peers are
	// all in one partition (the tracker keys events by member).
	tx, err := w.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("begin write-back transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	if _, err := tx.ExecContext(ctx, q("init_offset"), w.name, b.Topic, b.Partition); err != nil {
		return fmt.Errorf("create write-back offset row of %s/%d: %w", b.Topic, b.Partition, err)
	}
	var stored int64
	if err := tx.QueryRowContext(ctx, q("lock_offset"), w.name, b.Topic, b.Partition).Scan(&stored); err != nil {
		return fmt.Errorf("lock write-back offset of %s/%d: %w", b.Topic, b.Partition, err)
	}
	if stored != b.Prev {
		return fmt.Errorf("%w: %s/%d stored %d, batch starts after %d", consumer.ErrFenced, b.Topic, b.Partition, stored, b.Prev)
	}
	var c Stats // this batch's, added to w.stats once it commits
	p, err := w.plan(ctx, tx, cands, &c)
	if err != nil {
		return err
	}
	if !p.empty() {
		if c.MissingRows, err = w.dropMissing(ctx, tx, p); err != nil {
			return err
		}
	}
	if !p.empty() {
		if err := w.priorPeers(ctx, tx, p); err != nil {
			return err
		}
		if cut, ok := w.reapDue(p.newest); ok {
			if err := w.reap(ctx, tx, p, cut); err != nil {
				return err
			}
		}
		missing, err := w.m.write(ctx, tx, p)
		if err != nil {
			return err
		}
		c.MissingRows += missing
		c.Rows = w.m.rows(p) - missing
		if _, ok := w.m.(gazelle); ok {
			c.Expiries = int64(len(p.expiries))
		}
	}
	if _, err := tx.ExecContext(ctx, q("store_offset"), b.Next, w.name, b.Topic, b.Partition); err != nil {
		return fmt.Errorf("store write-back offset %d of %s/%d: %w", b.Next, b.Topic, b.Partition, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit write-back batch %s/%d up to %d: %w", b.Topic, b.Partition, b.Next, err)
	}
	w.count(b, c)
	return nil
}

func (w *Writer) count(b *consumer.Batch, c Stats) {
	w.statsMu.Lock()
	s := &w.stats
	s.Applied += c.Applied
	s.Duplicates += c.Duplicates
	s.UnknownMember += c.UnknownMember
	s.UnknownTorrent += c.UnknownTorrent
	s.TooOld += c.TooOld
	s.MissingRows += c.MissingRows
	s.Rows += c.Rows
	s.Expiries += c.Expiries
	w.statsMu.Unlock()
	w.Metrics.batch(c)
	if c.UnknownMember+c.UnknownTorrent+c.TooOld+c.MissingRows > 0 {
		w.log.Warn("write-back skipped announces", "partition", b.Partition, "next_offset", b.Next,
			"member_without_site_id", c.UnknownMember, "torrent_without_site_id", c.UnknownTorrent,
			"older_than_horizon", c.TooOld, "site_rows_missing", c.MissingRows)
	}
}

// candidates are the batch's accepted announces of known members and
// torrents, each event id once. Refused announces credit nothing.
func (w *Writer) candidates(b *consumer.Batch) []*events.Announce {
	out := make([]*events.Announce, 0, len(b.Events))
	seen := make(map[[16]byte]bool, len(b.Events))
	for _, ev := range b.Events {
		a := ev.A
		if a.GetResult() != events.Result_RESULT_ACCEPTED || a.GetUserId() == 0 || a.GetTorrentId() == 0 || len(a.GetEventId()) != 16 {
			continue
		}
		id := [16]byte(a.GetEventId())
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, a)
	}
	return out
}

// plan maps the candidates to site ids, claims the ids of those the site
// knows, and sums the fresh ones.
func (w *Writer) plan(ctx context.Context, tx *sql.Tx, cands []*events.Announce, c *Stats) (*plan, error) {
	oldest := time.Now().Add(-w.horizon).UnixNano()
	keep := cands[:0:0]
	var args []any
	for _, a := range cands {
		_, uok := w.ids.user(int64(a.GetUserId()))
		_, tok := w.ids.torrent(int64(a.GetTorrentId()))
		switch {
		case !uok:
			c.UnknownMember++
		case !tok:
			c.UnknownTorrent++
		case a.GetTimeUnixNano() < oldest:
			c.TooOld++
		default:
			keep = append(keep, a)
			args = append(args, a.GetEventId(), a.GetTimeUnixNano())
		}
	}
	p := newPlan()
	if len(keep) == 0 {
		return p, nil
	}
	fresh := make(map[[16]byte]bool, len(keep))
	err := queryRows(ctx, tx, "claim event ids", q("claim_events"), 2, args, func(rs *sql.Rows) error {
		var id []byte
		if err := rs.Scan(&id); err != nil {
			return err
		}
		fresh[[16]byte(id)] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, a := range keep {
		if !fresh[[16]byte(a.GetEventId())] {
			c.Duplicates++
			continue
		}
		u, _ := w.ids.user(int64(a.GetUserId()))
		t, _ := w.ids.torrent(int64(a.GetTorrentId()))
		p.add(a, u, t)
		c.Applied++
	}
	return p, nil
}

// priorPeers reads (and locks) the site's rows of the peers the plan
// touches and turns their changes into seeder and leecher deltas.
func (w *Writer) priorPeers(ctx context.Context, tx *sql.Tx, p *plan) error {
	keys := sortedPeers(p.peers, w.m.byUser())
	args := w.peerArgs(keys)
	before := make(map[peerKey]prior, len(keys))
	err := queryRows(ctx, tx, "read the site's peer rows", stmt(w.m, "prior_peers"), 3, args, func(rs *sql.Rows) error {
		var k peerKey
		var id []byte
		var pr prior
		if err := rs.Scan(&k.torrent, &k.user, &id, &pr.active, &pr.seeder); err != nil {
			return err
		}
		copy(k.peer[:], id)
		before[k] = pr
		return nil
	})
	if err != nil {
		return err
	}
	p.swarm(before)
	return nil
}

// dropMissing takes out of the plan the members and torrents the site has
// no row for, and returns how many there were.
func (w *Writer) dropMissing(ctx context.Context, tx *sql.Tx, p *plan) (int64, error) {
	users, torrents := map[int64]bool{}, map[int64]bool{}
	for k := range p.pairs {
		users[k.user] = true
		torrents[k.torrent] = true
	}
	usersSQL, torrentsSQL := stmt(w.m, "existing_users"), stmt(w.m, "existing_torrents")
	missing := int64(0)
	for _, set := range []struct {
		what, sql string
		ids       map[int64]bool
	}{{"members", usersSQL, users}, {"torrents", torrentsSQL, torrents}} {
		args := make([]any, 0, len(set.ids))
		for _, id := range sortedInts(set.ids) {
			args = append(args, id)
		}
		err := queryRows(ctx, tx, "look up the site's "+set.what, set.sql, 1, args, func(rs *sql.Rows) error {
			var id int64
			if err := rs.Scan(&id); err != nil {
				return err
			}
			delete(set.ids, id) // found: what is left is missing
			return nil
		})
		if err != nil {
			return 0, err
		}
		missing += int64(len(set.ids))
	}
	p.drop(users, torrents)
	return missing, nil
}

// peerArgs lists peer keys in the site's primary-key column order.
func (w *Writer) peerArgs(keys []peerKey) []any {
	args := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		if w.m.byUser() {
			args = append(args, k.user, k.torrent, k.peer[:])
		} else {
			args = append(args, k.torrent, k.user, k.peer[:])
		}
	}
	return args
}

// reapDue says whether this batch looks for dropped peers (once per
// reapEvery of announce time, by one batch at a time) and with which cutoff.
func (w *Writer) reapDue(newest time.Time) (time.Time, bool) {
	if newest.IsZero() {
		return time.Time{}, false
	}
	w.reapMu.Lock()
	defer w.reapMu.Unlock()
	if newest.Sub(w.lastReap) < reapEvery {
		return time.Time{}, false
	}
	w.lastReap = newest
	return newest.Add(-w.PeerTimeout), true
}

// reap marks inactive the peers last seen before cut that the batch does
// not touch, and takes them off their torrents' seeders and leechers (the
// tracker dropped them without a stopped announce). In the batch's
// transaction: the counts always equal the active peer rows.
func (w *Writer) reap(ctx context.Context, tx *sql.Tx, p *plan, cut time.Time) error {
	var stale []peerKey
	err := queryRows(ctx, tx, "read dropped peers", stmt(w.m, "stale_peers"), 1, []any{w.m.staleArg(cut)}, func(rs *sql.Rows) error {
		var k peerKey
		var id []byte
		var seeder bool
		if err := rs.Scan(&k.torrent, &k.user, &id, &seeder); err != nil {
			return err
		}
		copy(k.peer[:], id)
		if _, touched := p.peers[k]; touched {
			return nil
		}
		tr := p.torrent(k.torrent)
		if seeder {
			tr.seeders--
		} else {
			tr.leechers--
		}
		stale = append(stale, k)
		return nil
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	_, err = execRows(ctx, tx, "mark dropped peers inactive", stmt(w.m, "deactivate_peers"), 3, w.peerArgs(stale))
	return err
}

// Prune forgets applied event ids older than the horizon plus a day (clock
// skew between the tracker and this process) and returns how many.
func (w *Writer) Prune(ctx context.Context) (int64, error) {
	cut := time.Now().Add(-w.horizon - 24*time.Hour).UnixNano()
	var total int64
	for {
		res, err := w.db.ExecContext(ctx, q("prune_events"), cut)
		if err != nil {
			return total, fmt.Errorf("prune applied event ids: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune applied event ids: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}
