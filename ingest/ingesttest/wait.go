package ingesttest

import (
	"context"
	"fmt"
	"time"
)

// Offsets reads the stored offsets of one consumer (clickhouse.StoredOffsets,
// ledger.StoredOffsets).
type Offsets func(ctx context.Context) (map[int32]int64, error)

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
