package clickhouse_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// batches cuts the data set's decodable messages into batches of n records
// of partition 0, offsets counting from 0.
func batches(t *testing.T, ds *ingesttest.Dataset, n int) []*consumer.Batch {
	t.Helper()
	var out []*consumer.Batch
	prev := int64(-1)
	cur := &consumer.Batch{Topic: "t", Partition: 0, Prev: prev}
	for off, m := range ds.Msgs {
		if a, err := events.Decode(m.Value); err == nil {
			cur.Events = append(cur.Events, consumer.Event{Offset: int64(off), A: a})
		}
		cur.Next = int64(off) + 1
		if cur.Next-max(cur.Prev, 0) >= int64(n) || off == len(ds.Msgs)-1 {
			out = append(out, cur)
			cur = &consumer.Batch{Topic: "t", Partition: 0, Prev: cur.Next}
		}
	}
	return out
}

func TestLoaderStoresOnceAndFences(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(2, 5000, 50, 40, 5, 10)
	l := clickhouse.New(ch.Conn, ch.Database, nil)
	if got, err := l.Resume(ctx, "t", 0); err != nil || got != -1 {
		t.Fatalf("Resume on an empty table = %d, %v; want -1", got, err)
	}
	bs := batches(t, ds, 1000)
	for i, b := range bs {
		if err := l.Store(ctx, b); err != nil {
			t.Fatalf("store batch %d: %v", i, err)
		}
		if i == 1 { // a redelivered batch: the same events again, offsets re-stored first
			again := *b
			again.Prev = b.Next
			if err := l.Store(ctx, &again); err != nil {
				t.Fatalf("store redelivered batch: %v", err)
			}
			bs[i+1].Prev = b.Next
		}
	}
	if err := ingesttest.CheckClickHouse(ctx, ch.Conn, ds.Truth); err != nil {
		t.Error(err)
	}
	last := bs[len(bs)-1]
	if got, err := l.Resume(ctx, "t", 0); err != nil || got != last.Next {
		t.Errorf("Resume = %d, %v; want %d", got, err, last.Next)
	}
	stale := *bs[0]
	if err := l.Store(ctx, &stale); !errors.Is(err, consumer.ErrFenced) {
		t.Errorf("storing a batch behind the stored offset: err = %v, want ErrFenced", err)
	}
}
