// Package store owns enforcement's Postgres side: reading one consistent
// snapshot of the figures the rules need (ledger totals, weekly seeding,
// hit-and-run candidates, bonus seedtime, confirmed verdicts), and applying
// each planned change in its own transaction together with its audit_log
// row(s). Every apply re-checks its precondition under a row lock, so
// applying a change twice changes nothing the second time.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/enforce/rules"
)

// Store reads and writes enforcement state.
type Store struct {
	pool *pgxpool.Pool
	cfg  rules.Config
}

// New returns a store applying cfg (the leech blocks depend on the
// hit-and-run warning threshold).
func New(pool *pgxpool.Pool, cfg rules.Config) *Store { return &Store{pool: pool, cfg: cfg} }

// Member is one member's figures and enforcement state at snapshot time.
type Member struct {
	ID             int64
	Name           string
	Class          string
	Enabled        bool
	CanLeech       bool
	Uploaded       float64 // credited bytes
	Downloaded     float64 // credited bytes
	Snatches       int
	Seeded         int // snatches seeded over the last week
	Watch          rules.Watch
	WatchStarted   time.Time
	Held           bool // enforce turned leeching off
	HoldReason     string
	ActiveWarnings int
	CheatBlocks    int
	// UnseenPast: the member had a past on the site that ratioguard
	// neither observed nor was given (no opening balance imported): the
	// ratio rule does not judge them.
	UnseenPast bool
}

// Candidate is a snatch that may earn a hit-and-run warning.
type Candidate struct {
	UserID    int64
	Member    string
	TorrentID int64
	Torrent   string
	rules.Snatch
}

// Warning is an active hit-and-run warning that may be lifted.
type Warning struct {
	ID        int64
	UserID    int64
	Member    string
	TorrentID int64
	Torrent   string
	ExpiresAt time.Time
	Seedtime  time.Duration
}

// Seeding is unaccounted seedtime of one member × torrent.
type Seeding struct {
	UserID    int64
	Member    string
	TorrentID int64
	Size      int64
	Seedtime  int64 // seconds, cumulative
	Accounted int64 // seconds already turned into points
	Seeders   int
}

// Report is a confirmed cheat report whose verdict is still to be carried out.
type Report struct {
	ID                int64
	Detector          string
	SubjectKind       string
	SubjectID         string
	Verdict           []string
	ReverseUploaded   *int64
	ReverseDownloaded *int64
	LastError         string
	UserID            *int64 // nil: the subject resolves to no member
	Member            string
}

// Snapshot is everything one enforce pass decides on, read in one
// repeatable-read transaction.
type Snapshot struct {
	Members    []Member
	Candidates []Candidate
	Lifts      []Warning
	Seeding    []Seeding
	Reports    []Report
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// Load reads the snapshot as of now.
func (s *Store) Load(ctx context.Context, now time.Time) (*Snapshot, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback(ctx)
	snap := &Snapshot{}
	rc, hc, bc := s.cfg.Ratio, s.cfg.HnR, s.cfg.Bonus
	steps := []struct {
		what string
		sql  string
		args []any
		scan func(pgx.Rows) error
	}{
		{"members", membersSQL, []any{now, seconds(rc.SeededWindow()), int64(seconds(rc.SeededMin())), seconds(bc.SeederFresh())},
			func(r pgx.Rows) error {
				var m Member
				var state string
				var started, ends *time.Time
				if err := r.Scan(&m.ID, &m.Name, &m.Class, &m.Enabled, &m.CanLeech, &m.Uploaded, &m.Downloaded,
					&m.Snatches, &m.Seeded, &state, &started, &ends, &m.Watch.DownloadedAtStart,
					&m.Held, &m.HoldReason, &m.ActiveWarnings, &m.CheatBlocks, &m.UnseenPast); err != nil {
					return err
				}
				m.Watch.State = rules.WatchState(state)
				if started != nil {
					m.WatchStarted = *started
				}
				if ends != nil {
					m.Watch.EndsAt = *ends
				}
				snap.Members = append(snap.Members, m)
				return nil
			}},
		{"hit-and-run candidates", hnrCandidatesSQL, []any{now, hc.MinDownloadedPercent, seconds(hc.Grace()),
			int64(seconds(hc.SeedTime())), seconds(hc.WarningLife()), hc.ExemptClasses},
			func(r pgx.Rows) error {
				var c Candidate
				var seed int64
				if err := r.Scan(&c.UserID, &c.Member, &c.TorrentID, &c.Torrent, &c.TorrentSize, &c.Downloaded,
					&seed, &c.Started, &c.FromSite); err != nil {
					return err
				}
				c.Seedtime = time.Duration(seed) * time.Second
				snap.Candidates = append(snap.Candidates, c)
				return nil
			}},
		{"hit-and-run warnings to lift", hnrActiveSQL, []any{now, int64(seconds(hc.SeedTime()))},
			func(r pgx.Rows) error {
				var w Warning
				var seed int64
				if err := r.Scan(&w.ID, &w.UserID, &w.Member, &w.TorrentID, &w.Torrent, &w.ExpiresAt, &seed); err != nil {
					return err
				}
				w.Seedtime = time.Duration(seed) * time.Second
				snap.Lifts = append(snap.Lifts, w)
				return nil
			}},
		{"bonus seedtime", bonusCandidatesSQL, []any{now, seconds(bc.SeederFresh())},
			func(r pgx.Rows) error {
				var b Seeding
				if err := r.Scan(&b.UserID, &b.Member, &b.TorrentID, &b.Size, &b.Seedtime, &b.Accounted, &b.Seeders); err != nil {
					return err
				}
				snap.Seeding = append(snap.Seeding, b)
				return nil
			}},
		{"confirmed verdicts", verdictsSQL, nil,
			func(r pgx.Rows) error {
				var p Report
				var name string
				if err := r.Scan(&p.ID, &p.Detector, &p.SubjectKind, &p.SubjectID, &p.Verdict,
					&p.ReverseUploaded, &p.ReverseDownloaded, &p.LastError, &p.UserID, &name); err != nil {
					return err
				}
				p.Member = name
				snap.Reports = append(snap.Reports, p)
				return nil
			}},
	}
	for _, st := range steps {
		rows, err := tx.Query(ctx, st.sql, st.args...)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", st.what, err)
		}
		for rows.Next() {
			if err := st.scan(rows); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan %s: %w", st.what, err)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load %s: %w", st.what, err)
		}
	}
	return snap, nil
}

// SampleSeedtime records today's seedtime samples and prunes old ones
// (bookkeeping for the weekly seeding share; not a change to any member).
func (s *Store) SampleSeedtime(ctx context.Context, now time.Time) (sampled, pruned int64, err error) {
	window := seconds(s.cfg.Ratio.SeededWindow())
	tag, err := s.pool.Exec(ctx, seedSampleSQL, now, window)
	if err != nil {
		return 0, 0, fmt.Errorf("sample seedtime: %w", err)
	}
	del, err := s.pool.Exec(ctx, seedPruneSQL, now, window)
	if err != nil {
		return tag.RowsAffected(), 0, fmt.Errorf("prune seedtime samples: %w", err)
	}
	return tag.RowsAffected(), del.RowsAffected(), nil
}
