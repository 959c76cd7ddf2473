package ingesttest

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

// Offsets reads the stored offsets of one consumer.
type Offsets func(ctx context.Context) (map[int32]int64, error)

// ClickHouseOffsets reads the loader's stored offsets for topic.
func ClickHouseOffsets(conn chconn.Conn, topic string) Offsets {
	return func(ctx context.Context) (map[int32]int64, error) {
		rows, err := conn.Query(ctx, "SELECT partition, max(next_offset) FROM ingest_offsets WHERE consumer = 'clickhouse' AND topic = ? GROUP BY partition", topic)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[int32]int64{}
		for rows.Next() {
			var p uint32
			var n uint64
			if err := rows.Scan(&p, &n); err != nil {
				return nil, err
			}
			out[int32(p)] = int64(n)
		}
		return out, rows.Err()
	}
}

// LedgerOffsets reads the ledger's stored offsets for topic.
func LedgerOffsets(pool *pgxpool.Pool, topic string) Offsets {
	return func(ctx context.Context) (map[int32]int64, error) {
		rows, err := pool.Query(ctx, "SELECT partition, next_offset FROM consumer_offsets WHERE consumer = 'ledger' AND topic = $1", topic)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[int32]int64{}
		for rows.Next() {
			var p int32
			var n int64
			if err := rows.Scan(&p, &n); err != nil {
				return nil, err
			}
			out[p] = n
		}
		return out, rows.Err()
	}
}

// CaughtUp reports whether stored offsets reached ends on every partition.
func CaughtUp(stored, ends map[int32]int64) bool {
	for p, e := range ends {
		if e > 0 && stored[p] < e {
			return false
		}
	}
	return true
}

// WaitCaughtUp polls until every consumer stored the end offsets, or ctx ends.
func WaitCaughtUp(ctx context.Context, ends map[int32]int64, consumers ...Offsets) error {
	for {
		done := true
		var last map[int32]int64
		for _, c := range consumers {
			stored, err := c(ctx)
			if err == nil && !CaughtUp(stored, ends) {
				done, last = false, stored
			} else if err != nil {
				done = false
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("consumers not caught up: stored %v, end %v: %w", last, ends, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
