package stream

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// TestSettleAccountsForEveryPublishedEvent: after Settle every event
// published before it is on Kafka or readable in the spool, with Kafka up
// and with Kafka down.
func TestSettleAccountsForEveryPublishedEvent(t *testing.T) {
	for _, down := range []bool{false, true} {
		brokers, topic := newCluster(t, 3)
		f := faults{}
		f.down.Store(down)
		cfg := testConfig(t, brokers, topic)
		cfg.NewWriter = f.factory(KafkaWriter)
		cfg.SpoolFsyncInterval = 1 << 40 // only Settle syncs
		p := start(t, cfg)
		publishRange(p, 0, 2500)
		if err := p.Settle(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := p.Stats()
		var inSpool int
		if _, err := ReadSpool(cfg.SpoolDir, func(*events.Announce) { inSpool++ }); err != nil {
			t.Fatal(err)
		}
		if down && (inSpool != 2500 || st.Produced != 0) {
			t.Fatalf("Kafka down: %d events readable in the spool after Settle (%+v), want 2500", inSpool, st)
		}
		if !down && st.Produced+uint64(inSpool) < 2500 {
			t.Fatalf("Kafka up: %d produced + %d in the spool after Settle, want ≥ 2500", st.Produced, inSpool)
		}
	}
}

// TestHoldSpoolKeepsWhatTheProducerReplays: the segments a crashed run
// left stay readable (in order, torn tail skipped) after the next run's
// producer replayed and deleted them.
func TestHoldSpoolKeepsWhatTheProducerReplays(t *testing.T) {
	brokers, topic := newCluster(t, 2)
	f := faults{}
	f.down.Store(true)
	cfg := testConfig(t, brokers, topic)
	cfg.NewWriter = f.factory(KafkaWriter)
	cfg.SpoolSegmentBytes = 64 << 10 // several segments
	p := start(t, cfg)
	publishRange(p, 0, 1500)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, cfg.SpoolDir)
	last, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = last.Write([]byte{0, 0, 1, 0, 9, 9}) // a torn record
	last.Close()

	held := filepath.Join(t.TempDir(), "held")
	n, err := HoldSpool(cfg.SpoolDir, held)
	if err != nil || n != len(segs) || n < 2 {
		t.Fatalf("held %d segments (err %v), want %d (≥ 2)", n, err, len(segs))
	}
	if rd, err := ReadSpool(held, func(*events.Announce) {}); err != nil || rd.Events != 1500 || rd.Torn != 6 {
		t.Fatalf("before the next run: %+v (err %v), want 1500 events and the 6 torn bytes", rd, err)
	}
	cfg.NewWriter = nil
	p2 := start(t, cfg)
	eventually(t, "replay of the spool", 10*time.Second, func() bool { return p2.Stats().SpoolRecords == 0 })
	assertNoSegments(t, cfg.SpoolDir)

	var seqs []uint64
	rd, err := ReadSpool(held, func(ev *events.Announce) { seqs = append(seqs, ev.GetSequence()) })
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 1500 || rd.Segments != n {
		t.Fatalf("read %d events, %+v; want 1500 events from %d segments", len(seqs), rd, n)
	}
	for i, s := range seqs {
		if s != uint64(i) {
			t.Fatalf("event %d has sequence %d: out of order", i, s)
		}
	}
	if n, err := HoldSpool(filepath.Join(t.TempDir(), "none"), held); n != 0 || err != nil {
		t.Fatalf("holding a missing spool: %d, %v", n, err)
	}
	if _, err := os.Stat(held); !os.IsNotExist(err) {
		t.Fatalf("holding an empty spool left the previous hold: %v", err)
	}
}
