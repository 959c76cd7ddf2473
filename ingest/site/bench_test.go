package site

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
)

// benchBatch is the announces per Store: the write-back's batches are cut
// every 3 s, so at 1,700 announces/s a batch holds about 5,000.
const benchBatch = 5000

// BenchmarkWriteBack stores batches of generated announces (2,000 members,
// 1,000 torrents: mostly updates of existing peer and history rows) into
// each site's schema and reports announces/s and site rows/s.
func BenchmarkWriteBack(b *testing.B) {
	for _, s := range []string{SiteGazelle, SiteUNIT3D} {
		b.Run(s, func(b *testing.B) {
			e := newEnv(b, s, 2000, 1000, nil, nil)
			g := ingesttest.NewGen(uint64(time.Now().UnixNano()), 2000, 1000, time.Now().UTC().Add(-3*time.Hour))
			prev := int64(-1)
			next := func() *consumer.Batch {
				bt := &consumer.Batch{Topic: "announces", Prev: prev}
				off := max(prev, 0)
				for range benchBatch {
					bt.Events = append(bt.Events, consumer.Event{Offset: off, A: g.Next()})
					off++
				}
				bt.Next, prev = off, off
				return bt
			}
			// Warm up: the first batches insert the peer and history rows.
			for range 4 {
				if err := e.w.Store(context.Background(), next()); err != nil {
					b.Fatal(err)
				}
			}
			before := e.w.Stats()
			b.ResetTimer()
			var busy time.Duration
			for range b.N {
				bt := next()
				t0 := time.Now()
				if err := e.w.Store(context.Background(), bt); err != nil {
					b.Fatal(err)
				}
				busy += time.Since(t0)
			}
			after := e.w.Stats()
			b.ReportMetric(float64(after.Applied-before.Applied)/busy.Seconds(), "announces/s")
			b.ReportMetric(float64(after.Rows-before.Rows)/busy.Seconds(), "rows/s")
		})
	}
}

// BenchmarkMariaDBBaseline is the same server's plain bulk rate: batches of
// 5,000 three-column rows upserted into one table (INSERT … ON DUPLICATE
// KEY UPDATE col = col + VALUES(col), half of them new), one transaction
// each — the floor the write-back's rows/s compares with.
func BenchmarkMariaDBBaseline(b *testing.B) {
	e := newEnv(b, SiteGazelle, 0, 0, nil, nil)
	e.exec(b, "CREATE TABLE baseline (id INT PRIMARY KEY, a BIGINT NOT NULL, b BIGINT NOT NULL)")
	tmpl := "INSERT INTO baseline (id, a, b) VALUES {{values}} ON DUPLICATE KEY UPDATE a = a + VALUES(a), b = b + VALUES(b)"
	ctx := context.Background()
	rows := 0
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		args := make([]any, 0, 3*benchBatch)
		for j := range benchBatch {
			args = append(args, (i*benchBatch/2+j)%(benchBatch*20), j, i)
		}
		tx, err := e.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := execRows(ctx, tx, "baseline", tmpl, 3, args); err != nil {
			b.Fatal(fmt.Errorf("baseline: %w", err))
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		rows += benchBatch
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}
