// Package clickhouse owns the ClickHouse loader: the sink that writes
// announce events into the raw `announces` table (whose one materialized
// view writes each row's event id to announce_ids, the loader's dedupe
// index), exactly once, with its Kafka offsets kept in ClickHouse beside the
// data, and that re-derives the ids a ClickHouse crash mid-INSERT left out.
// The hourly rollups are not written here: package ingest/rollup rebuilds
// them from the raw table. The argument is in docs/ARCHITECTURE.md,
// "Ingest: exactly once".
package clickhouse

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	chgo "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/internal/chconn"
)

var (
	//go:embed sql/insert_announces.sql
	insertAnnouncesSQL string
	//go:embed sql/lookup_ids.sql
	lookupIDsSQL string
	//go:embed sql/stored_offset.sql
	storedOffsetSQL string
	//go:embed sql/store_offset.sql
	storeOffsetSQL string
	//go:embed sql/inflight.sql
	inflightSQL string
)

// Loader is the ClickHouse sink.
type Loader struct {
	conn     chconn.Conn
	database string
	name     string
	log      *slog.Logger

	mu    sync.Mutex
	dirty map[string]bool // partitions whose last insert may still run on the server
}

// New returns a loader writing through conn (a connection to database) under
// the consumer name "clickhouse".
func New(conn chconn.Conn, database string, log *slog.Logger) *Loader {
	if log == nil {
		log = slog.Default()
	}
	return &Loader{conn: conn, database: database, name: "clickhouse", log: log, dirty: map[string]bool{}}
}

// Name implements consumer.Sink.
func (l *Loader) Name() string { return l.name }

// Resume implements consumer.Sink: it first waits until no insert this
// consumer started on the partition (before a crash, a kill or a network
// error) is still running on the server and repairs the partition's event
// ids (waitInflight), then returns the stored offset.
func (l *Loader) Resume(ctx context.Context, topic string, p int32) (int64, error) {
	if err := l.waitInflight(ctx, topic, p); err != nil {
		return 0, err
	}
	return l.storedOffset(ctx, topic, p)
}

func (l *Loader) storedOffset(ctx context.Context, topic string, p int32) (int64, error) {
	var n, next uint64
	if err := l.conn.QueryRow(ctx, storedOffsetSQL, l.name, topic, uint32(p)).Scan(&n, &next); err != nil {
		return 0, fmt.Errorf("read clickhouse offset of %s/%d: %w", topic, p, err)
	}
	if n == 0 {
		return -1, nil
	}
	return int64(next), nil
}

// queryPrefix identifies this consumer's inserts into a partition in
// system.processes.
func (l *Loader) queryPrefix(topic string, p int32) string {
	return "rg-ingest-" + l.database + "-" + l.name + "-" + topic + "-" + strconv.Itoa(int(p)) + "-"
}

// waitInflight runs before the dedupe lookup after any failure and on
// every resume: it blocks while an insert of ours into the partition is
// still running on the server, so that the lookup sees its outcome, then
// gives every raw row of the partition its announce_ids row (repairIDs), so
// that the lookup finds the rows of an INSERT the server crashed in.
func (l *Loader) waitInflight(ctx context.Context, topic string, p int32) error {
	prefix := l.queryPrefix(topic, p)
	for {
		var n uint64
		if err := l.conn.QueryRow(ctx, inflightSQL, prefix, prefix).Scan(&n); err != nil {
			return fmt.Errorf("check running inserts: %w", err)
		}
		if n == 0 {
			return l.repairIDs(ctx, topic, p)
		}
		l.log.Info("waiting for a previous insert to finish", "topic", topic, "partition", p, "running", n)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (l *Loader) setDirty(key string, v bool) (was bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	was = l.dirty[key]
	l.dirty[key] = v
	return was
}

// Store implements consumer.Sink: it drops events whose id is already in
// the batch or in announce_ids, inserts the rest (one INSERT per ClickHouse
// partition, i.e. month), then stores batch.Next.
func (l *Loader) Store(ctx context.Context, b *consumer.Batch) error {
	key := b.Topic + "/" + strconv.Itoa(int(b.Partition))
	if l.setDirty(key, true) {
		if err := l.waitInflight(ctx, b.Topic, b.Partition); err != nil {
			return err
		}
	}
	stored, err := l.storedOffset(ctx, b.Topic, b.Partition)
	if err != nil {
		return err
	}
	if stored != b.Prev {
		l.setDirty(key, false)
		return fmt.Errorf("%w: %s/%d stored %d, batch starts after %d", consumer.ErrFenced, b.Topic, b.Partition, stored, b.Prev)
	}
	d, err := decodedOf(b)
	if err != nil {
		return err
	}
	fresh, err := l.newEvents(ctx, d)
	if err != nil {
		return err
	}
	for _, m := range d.byMonth(fresh) {
		qid := l.queryPrefix(b.Topic, b.Partition) + strconv.FormatInt(b.Prev, 10) + "-" + strconv.Itoa(m.month)
		if err := l.insert(ctx, qid, m.rows); err != nil {
			return err
		}
	}
	if err := l.conn.Exec(ctx, storeOffsetSQL, l.name, b.Topic, uint32(b.Partition), uint64(b.Next), uint64(len(fresh))); err != nil {
		return fmt.Errorf("store clickhouse offset %s/%d=%d: %w", b.Topic, b.Partition, b.Next, err)
	}
	l.setDirty(key, false)
	return nil
}

func (l *Loader) insert(ctx context.Context, queryID string, r *rows) error {
	ctx = chgo.Context(ctx, chgo.WithQueryID(queryID))
	batch, err := l.conn.PrepareBatch(ctx, insertAnnouncesSQL)
	if err != nil {
		return fmt.Errorf("prepare insert into announces: %w", err)
	}
	if err := r.appendTo(batch); err != nil {
		_ = batch.Abort()
		return err
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert %d rows into announces: %w", r.len(), err)
	}
	return nil
}

type monthRows struct {
	month int
	rows  *rows
}
