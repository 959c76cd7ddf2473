// Package ledger owns the Postgres ledger: the sink that applies accepted
// announces to per-member totals and per member × torrent history, in one
// transaction per batch that also claims the event ids (dedupe) and stores
// the Kafka offsets; and Adjust, the only other way a total changes.
// The argument is in docs/ARCHITECTURE.md, "Ingest: exactly once".
package ledger

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/ingest/consumer"
)

var (
	//go:embed sql/lock_offset.sql
	lockOffsetSQL string
	//go:embed sql/stored_offset.sql
	storedOffsetSQL string
	//go:embed sql/store_offset.sql
	storeOffsetSQL string
	//go:embed sql/claim_events.sql
	claimEventsSQL string
	//go:embed sql/known_users.sql
	knownUsersSQL string
	//go:embed sql/known_torrents.sql
	knownTorrentsSQL string
	//go:embed sql/upsert_totals.sql
	upsertTotalsSQL string
	//go:embed sql/upsert_user_torrents.sql
	upsertUserTorrentsSQL string
	//go:embed sql/park_events.sql
	parkEventsSQL string
	//go:embed sql/prune_applied.sql
	pruneAppliedSQL string
)

// DefaultHorizon is how long applied event ids are remembered. A duplicate
// arriving later than this would not be recognised, so events older than
// the horizon are parked instead of applied (see Ledger.Store).
const DefaultHorizon = 30 * 24 * time.Hour

// pruneMargin is added to the horizon when pruning ids: it covers clock skew
// between the tracker that stamped an event and Postgres.
const pruneMargin = 24 * time.Hour

// Ledger is the Postgres sink.
type Ledger struct {
	pool    *pgxpool.Pool
	name    string
	horizon time.Duration
	log     *slog.Logger

	mu       sync.Mutex
	users    map[int64]bool // known to exist (never deleted: foreign keys)
	torrents map[int64]bool
}

// New returns the ledger sink (consumer name "ledger"); horizon 0 means DefaultHorizon.
func New(pool *pgxpool.Pool, horizon time.Duration, log *slog.Logger) *Ledger {
	if horizon <= 0 {
		horizon = DefaultHorizon
	}
	if log == nil {
		log = slog.Default()
	}
	return &Ledger{pool: pool, name: "ledger", horizon: horizon, log: log,
		users: map[int64]bool{}, torrents: map[int64]bool{}}
}

// Name implements consumer.Sink.
func (l *Ledger) Name() string { return l.name }

// Resume implements consumer.Sink.
func (l *Ledger) Resume(ctx context.Context, topic string, p int32) (int64, error) {
	var next int64
	err := l.pool.QueryRow(ctx, storedOffsetSQL, l.name, topic, p).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read ledger offset of %s/%d: %w", topic, p, err)
	}
	return next, nil
}

// Store implements consumer.Sink. In one transaction: lock the partition's
// offset row and check it is b.Prev (else ErrFenced); claim the ids of the
// batch's accepted events in ledger_applied_events (ids already there are
// duplicates and are skipped); apply the claimed events of known members and
// torrents, park the others; store b.Next. Refused announces (user 0 or
// not) credit nothing and are left to ClickHouse.
func (l *Ledger) Store(ctx context.Context, b *consumer.Batch) error {
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin ledger transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	stored := int64(-1)
	err = tx.QueryRow(ctx, lockOffsetSQL, l.name, b.Topic, b.Partition).Scan(&stored)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("lock ledger offset of %s/%d: %w", b.Topic, b.Partition, err)
	}
	if stored != b.Prev {
		return fmt.Errorf("%w: %s/%d stored %d, batch starts after %d", consumer.ErrFenced, b.Topic, b.Partition, stored, b.Prev)
	}
	writes := &pgx.Batch{}
	if err := l.apply(ctx, tx, b, writes); err != nil {
		return err
	}
	writes.Queue(storeOffsetSQL, l.name, b.Topic, b.Partition, b.Next)
	if err := tx.SendBatch(ctx, writes).Close(); err != nil {
		return fmt.Errorf("apply ledger batch %s/%d and store offset %d: %w", b.Topic, b.Partition, b.Next, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit ledger batch %s/%d up to %d: %w", b.Topic, b.Partition, b.Next, err)
	}
	return nil
}

// Prune forgets applied event ids older than the horizon plus a margin and
// returns how many it deleted.
func (l *Ledger) Prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		tag, err := l.pool.Exec(ctx, pruneAppliedSQL, (l.horizon + pruneMargin).Seconds())
		if err != nil {
			return total, fmt.Errorf("prune applied event ids: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() == 0 {
			return total, nil
		}
	}
}

// Close closes the ledger's pool.
func (l *Ledger) Close() { l.pool.Close() }
