package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ratioguard/ratioguard/schemas/events"
)

func publishRange(p *Producer, from, to int) {
	for i := from; i < to; i++ {
		p.Publish(event(uint64(i)))
	}
}

func TestNormalFlowDeliversEveryEventInOrder(t *testing.T) {
	brokers, topic := newCluster(t, 4)
	cfg := testConfig(t, brokers, topic)
	cfg.QueueSize = 5000
	p := start(t, cfg)
	const n = 5000
	publishRange(p, 0, n)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Published != n || st.Produced != n || st.Spooled != 0 || st.Dropped != 0 || st.KafkaErrors != 0 {
		t.Fatalf("stats %+v: want %d published and produced directly, nothing spooled or dropped", st, n)
	}
	c := readTopic(t, brokers, topic)
	c.check(t, n)
	if c.total != n {
		t.Fatalf("%d messages on the topic, want exactly %d (no failure, so no duplicate)", c.total, n)
	}
}

func TestKafkaDownSpoolsThenReplaysInOrder(t *testing.T) {
	brokers, topic := newCluster(t, 4)
	var f faults
	cfg := testConfig(t, brokers, topic)
	cfg.NewWriter = f.factory(KafkaWriter)
	p := start(t, cfg)

	const n = 6000
	publishRange(p, 0, 1000)
	eventually(t, "the first events on Kafka", 10*time.Second, func() bool { return p.Stats().Produced > 0 })
	f.down.Store(true)
	publishRange(p, 1000, 4000)
	eventually(t, "spooling", 10*time.Second, func() bool { return p.Stats().Spooling })
	publishRange(p, 4000, 5000)
	if st := p.Stats(); st.Queued != 0 || st.Spooled == 0 || st.SpoolRecords == 0 {
		t.Fatalf("while Kafka is down: %+v, want an empty queue and events in the spool", st)
	}
	f.down.Store(false)
	publishRange(p, 5000, n)
	eventually(t, "the spool replayed and direct mode back", 20*time.Second, func() bool {
		st := p.Stats()
		return !st.Spooling && st.SpoolRecords == 0 && st.Queued == 0
	})
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.KafkaErrors == 0 || st.Replayed == 0 || st.Dropped != 0 || st.Produced < n {
		t.Fatalf("stats %+v: want Kafka errors, replays, nothing dropped, >= %d produced", st, n)
	}
	readTopic(t, brokers, topic).check(t, n)
	assertNoSegments(t, cfg.SpoolDir)
}

func TestBrokerRestartReplaysFromSpool(t *testing.T) {
	// A real network outage: the kfake broker goes away and comes back on
	// the same port with its data.
	dir, port := t.TempDir(), freePort(t)
	topic := "announces-test"
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(2, topic)}
	c1, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	brokers := c1.ListenAddrs()
	cfg := testConfig(t, brokers, topic)
	p := start(t, cfg)
	publishRange(p, 0, 500)
	eventually(t, "500 events on Kafka", 10*time.Second, func() bool { return p.Stats().Produced == 500 })
	c1.Close()
	publishRange(p, 500, 1500)
	eventually(t, "spooling", 10*time.Second, func() bool { return p.Stats().Spooling })
	publishRange(p, 1500, 2000)
	c2, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	eventually(t, "replay after the broker is back", 30*time.Second, func() bool {
		st := p.Stats()
		return !st.Spooling && st.SpoolRecords == 0
	})
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	readTopic(t, brokers, topic).check(t, 2000)
}

func TestQueueFullGoesToSpoolInOrder(t *testing.T) {
	brokers, topic := newCluster(t, 2)
	f := faults{gate: make(chan struct{})}
	cfg := testConfig(t, brokers, topic)
	cfg.QueueSize = 16
	cfg.NewWriter = f.factory(KafkaWriter)
	p := start(t, cfg)
	// The writer is stuck in its first write: the queue fills up, then the
	// rest goes to the spool without Publish blocking.
	publishRange(p, 0, 300)
	st := p.Stats()
	if !st.Spooling || st.Spooled < 300-16 || st.Queued != 0 {
		t.Fatalf("after overflowing a 16-event queue: %+v, want spooling, >= 284 spooled, empty queue", st)
	}
	close(f.gate)
	publishRange(p, 300, 400)
	eventually(t, "replay", 10*time.Second, func() bool {
		st := p.Stats()
		return !st.Spooling && st.SpoolRecords == 0
	})
	publishRange(p, 400, 500)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Dropped != 0 || st.KafkaErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
	readTopic(t, brokers, topic).check(t, 500)
}

func TestCloseDrainsQueueToKafka(t *testing.T) {
	brokers, topic := newCluster(t, 4)
	cfg := testConfig(t, brokers, topic)
	cfg.QueueSize = 20000
	p := start(t, cfg)
	publishRange(p, 0, 20000)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Produced != 20000 || st.Spooled != 0 {
		t.Fatalf("stats %+v: Close must have written the whole queue to Kafka", st)
	}
	readTopic(t, brokers, topic).check(t, 20000)
	// After Close, events cannot be kept: they are counted as dropped.
	p.Publish(event(1))
	if st := p.Stats(); st.Dropped != 1 {
		t.Fatalf("Publish after Close: %+v, want 1 dropped", st)
	}
}

func TestCloseWithKafkaDownSpoolsAndNextRunReplays(t *testing.T) {
	brokers, topic := newCluster(t, 4)
	f := faults{}
	f.down.Store(true)
	cfg := testConfig(t, brokers, topic)
	cfg.NewWriter = f.factory(KafkaWriter)
	p := start(t, cfg)
	publishRange(p, 0, 3000)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.SpoolRecords != 3000 || st.Dropped != 0 || st.Produced != 0 {
		t.Fatalf("after Close with Kafka down: %+v, want 3000 events in the spool", st)
	}
	// A new process on the same spool directory, Kafka reachable again.
	cfg.NewWriter = nil
	p2 := start(t, cfg)
	eventually(t, "replay of the previous run's spool", 10*time.Second, func() bool {
		st := p2.Stats()
		return !st.Spooling && st.SpoolRecords == 0
	})
	publishRange(p2, 3000, 3500)
	if err := p2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p2.Stats(); st.Replayed != 3000 {
		t.Fatalf("second run: %+v, want 3000 replayed", st)
	}
	readTopic(t, brokers, topic).check(t, 3500)
	assertNoSegments(t, cfg.SpoolDir)
}

func TestCloseDeadlineSendsQueueToSpool(t *testing.T) {
	brokers, topic := newCluster(t, 1)
	f := faults{gate: make(chan struct{})} // Kafka hangs: writes never finish
	cfg := testConfig(t, brokers, topic)
	cfg.NewWriter = f.factory(KafkaWriter)
	cfg.WriteTimeout = time.Hour
	p := start(t, cfg)
	publishRange(p, 0, 500)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.SpoolRecords != 500 || st.Dropped != 0 {
		t.Fatalf("after a Close deadline with Kafka hanging: %+v, want all 500 events in the spool", st)
	}
	close(f.gate)
}

func TestTornSpoolTailIsTruncatedAndTheRestReplayed(t *testing.T) {
	brokers, topic := newCluster(t, 2)
	f := faults{}
	f.down.Store(true)
	cfg := testConfig(t, brokers, topic)
	cfg.NewWriter = f.factory(KafkaWriter)
	p := start(t, cfg)
	publishRange(p, 0, 1000)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of an append: half a record at the end.
	segs := segments(t, cfg.SpoolDir)
	if len(segs) != 1 {
		t.Fatalf("spool segments %v, want 1", segs)
	}
	torn, err := appendRecord(nil, event(1000))
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write(torn[:len(torn)/2]); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	cfg.NewWriter = nil
	p2 := start(t, cfg)
	if rec := p2.spool.recovered; rec.records != 1000 || rec.tornBytes != int64(len(torn)/2) {
		t.Fatalf("recovered %+v, want 1000 records and %d torn bytes", rec, len(torn)/2)
	}
	eventually(t, "replay", 10*time.Second, func() bool { return p2.Stats().SpoolRecords == 0 })
	if err := p2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	readTopic(t, brokers, topic).check(t, 1000)
}

func TestRecycleIsCalledOncePerEvent(t *testing.T) {
	brokers, topic := newCluster(t, 2)
	var f faults
	var mu sync.Mutex
	seen := map[*events.Announce]int{}
	cfg := testConfig(t, brokers, topic)
	cfg.QueueSize = 64
	cfg.NewWriter = f.factory(KafkaWriter)
	cfg.Recycle = func(ev *events.Announce) {
		mu.Lock()
		seen[ev]++
		mu.Unlock()
	}
	p := start(t, cfg)
	var wg sync.WaitGroup
	var next atomic.Uint64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= 4000 {
					return
				}
				if i == 1000 {
					f.down.Store(true)
				}
				if i == 2500 {
					f.down.Store(false)
				}
				p.Publish(event(i))
			}
		}()
	}
	wg.Wait()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4000 {
		t.Fatalf("%d events recycled, want 4000", len(seen))
	}
	for ev, n := range seen {
		if n != 1 {
			t.Fatalf("event %d recycled %d times", ev.GetSequence(), n)
		}
	}
}

func TestInvalidUTF8IsMadeValidNotLost(t *testing.T) {
	brokers, topic := newCluster(t, 1)
	p := start(t, testConfig(t, brokers, topic))
	ev := event(0)
	ev.UserAgent = "uTorrent/\xff\xfe"
	ev.ParamOrder = []string{"info_hash", "\xc3("}
	p.Publish(ev)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Produced != 1 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	readTopic(t, brokers, topic).check(t, 1)
}

func TestMetricsAreRegistered(t *testing.T) {
	brokers, topic := newCluster(t, 1)
	reg := prometheus.NewRegistry()
	p, err := New(context.Background(), testConfig(t, brokers, topic), reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	publishRange(p, 0, 10)
	eventually(t, "10 produced", 10*time.Second, func() bool { return p.Stats().Produced == 10 })
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
	}
	for _, name := range []string{"ratioguard_stream_queue_depth", "ratioguard_stream_spool_records",
		"ratioguard_stream_spool_bytes", "ratioguard_stream_events_produced_total", "ratioguard_stream_kafka_errors_total",
		"ratioguard_stream_spool_writes_total", "ratioguard_stream_replayed_total", "ratioguard_stream_batch_seconds",
		"ratioguard_stream_events_dropped_total", "ratioguard_stream_spooling", "ratioguard_stream_events_published_total"} {
		if _, ok := got[name]; !ok {
			t.Errorf("metric %s not registered", name)
		}
	}
	if got["ratioguard_stream_events_produced_total"] != 10 || got["ratioguard_stream_batch_seconds"] == 0 {
		t.Errorf("metrics %v: want 10 produced and at least one batch observed", got)
	}
	// A second producer on the same registry is a configuration error.
	if _, err := New(context.Background(), testConfig(t, brokers, topic), reg, testLogger(t)); err == nil ||
		!strings.Contains(err.Error(), "register") {
		t.Fatalf("second producer on one registry: err %v, want a registration error", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no brokers":   {SpoolDir: t.TempDir()},
		"no spool dir": {Brokers: []string{"127.0.0.1:1"}},
		"negative":     {Brokers: []string{"127.0.0.1:1"}, SpoolDir: t.TempDir(), QueueSize: -1},
	} {
		if _, err := New(context.Background(), cfg, nil, testLogger(t)); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	// Two producers never share a spool directory.
	dir := t.TempDir()
	p := start(t, Config{Brokers: []string{"127.0.0.1:1"}, SpoolDir: dir})
	defer p.Close(context.Background())
	if _, err := New(context.Background(), Config{Brokers: []string{"127.0.0.1:1"}, SpoolDir: dir}, nil, testLogger(t)); err == nil {
		t.Fatal("a second producer opened a spool directory in use")
	}
}

func segments(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func assertNoSegments(t testing.TB, dir string) {
	t.Helper()
	if s := segments(t, dir); len(s) != 0 {
		t.Fatalf("spool segments left after a full replay: %v", s)
	}
}

// Concurrent publishers, each the only one for its users, through queue
// overflows and Kafka failures: every event arrives, and each user's events
// arrive in the order their publisher called Publish.
func TestConcurrentPublishersKeepPerUserOrder(t *testing.T) {
	brokers, topic := newCluster(t, 4)
	var f faults
	cfg := testConfig(t, brokers, topic)
	cfg.QueueSize, cfg.BatchSize = 32, 50
	cfg.NewWriter = f.factory(KafkaWriter)
	p := start(t, cfg)
	const publishers, per = 6, 1500
	var wg sync.WaitGroup
	for g := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if g == 0 && i%500 == 250 {
					f.down.Store(!f.down.Load())
				}
				ev := event(uint64(g*per + i))
				ev.UserId = uint64(g)
				p.Publish(ev)
			}
		}()
	}
	wg.Wait()
	f.down.Store(false)
	eventually(t, "replay", 20*time.Second, func() bool {
		st := p.Stats()
		return !st.Spooling && st.SpoolRecords == 0
	})
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	t.Logf("stats %+v", st)
	if st.Spooled == 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v: want some events spooled, none dropped", st)
	}
	readTopic(t, brokers, topic).check(t, publishers*per)
}

func TestRecordErrorsSummarize(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &recordErrors{total: 5, errs: []error{
		kerr.NotLeaderForPartition, kerr.NotLeaderForPartition, reset(1), reset(3)}})
	want := "wrapped: 4 of 5 records failed: " + kerr.NotLeaderForPartition.Error() + "; read: connection reset by peer"
	if err.Error() != want {
		t.Fatalf("summary %q, want %q", err, want)
	}
	if !errors.Is(err, kerr.NotLeaderForPartition) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatal("the distinct causes must stay reachable with errors.Is")
	}
}

func reset(port int) error {
	return fmt.Errorf("kafka.(*Client).Produce: %w", &net.OpError{Op: "read", Net: "tcp",
		Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, Err: syscall.ECONNRESET})
}

// The tracker passes its signal context to New; SIGTERM cancels it before
// Close runs. The drain must still go to Kafka, not to the spool.
func TestCancelledStartContextDoesNotCutTheDrainShort(t *testing.T) {
	brokers, topic := newCluster(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := testConfig(t, brokers, topic)
	cfg.QueueSize = 3000
	p, err := New(ctx, cfg, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	publishRange(p, 0, 3000)
	cancel()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Produced != 3000 || st.Spooled != 0 {
		t.Fatalf("stats %+v: want every event written to Kafka by Close", st)
	}
}
