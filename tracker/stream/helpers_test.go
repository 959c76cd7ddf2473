package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/schemas/events"
)

const testUsers = 37

var testProducerID = [8]byte{'r', 'g', 't', 'e', 's', 't', 0, 1}

// event makes the seq-th test event; its user is seq % testUsers.
func event(seq uint64) *events.Announce {
	return &events.Announce{
		SchemaVersion: events.SchemaVersion,
		EventId:       events.ID(testProducerID, seq),
		ProducerId:    testProducerID[:],
		Sequence:      seq,
		TimeUnixNano:  time.Now().UnixNano(),
		UserId:        seq % testUsers,
		TorrentId:     seq % 101,
		InfoHash:      bytes.Repeat([]byte{byte(seq)}, 20),
		PeerId:        []byte("-qB4650-abcdefghijkl"),
		Ip:            []byte{10, 0, byte(seq >> 8), byte(seq)},
		Port:          6881,
		UserAgent:     "qBittorrent/4.6.5",
		ParamOrder:    []string{"info_hash", "peer_id", "port", "uploaded", "downloaded", "left"},
		Uploaded:      seq * 16384,
		Left:          1 << 30,
		Result:        events.Result_RESULT_ACCEPTED,
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newCluster starts an in-process kfake broker with a topic of partitions.
func newCluster(t testing.TB, partitions int32, opts ...kfake.Opt) ([]string, string) {
	t.Helper()
	topic := "announces-test"
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs(), topic
}

// testConfig is a small, fast configuration for unit tests.
func testConfig(t testing.TB, brokers []string, topic string) Config {
	return Config{
		Brokers:            brokers,
		Topic:              topic,
		SpoolDir:           t.TempDir(),
		QueueSize:          1024,
		BatchSize:          200,
		BatchTimeout:       time.Millisecond,
		WriteTimeout:       5 * time.Second,
		RetryMin:           10 * time.Millisecond,
		RetryMax:           100 * time.Millisecond,
		SpoolFsyncInterval: 20 * time.Millisecond,
	}
}

func start(t testing.TB, cfg Config) *Producer {
	t.Helper()
	p, err := New(context.Background(), cfg, prometheus.NewRegistry(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// faults wraps a WriterFactory with switchable failures.
type faults struct {
	down  atomic.Bool
	gate  chan struct{} // when set, writes wait until it is closed
	made  atomic.Int32
	calls atomic.Int32
}

var errInjected = errors.New("injected: broker unreachable")

func (f *faults) factory(next WriterFactory) WriterFactory {
	return func(brokers []string, topic string, bt time.Duration) MessageWriter {
		f.made.Add(1)
		return &faultWriter{f: f, next: next(brokers, topic, bt)}
	}
}

type faultWriter struct {
	f    *faults
	next MessageWriter
}

func (w *faultWriter) WriteRecords(ctx context.Context, recs []kgo.Record) error {
	w.f.calls.Add(1)
	if g := w.f.gate; g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if w.f.down.Load() {
		return errInjected
	}
	return w.next.WriteRecords(ctx, recs)
}

func (w *faultWriter) Close() error { return w.next.Close() }

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// consumed is what a topic holds, read back with kafka-go.
type consumed struct {
	total     int            // messages, duplicates included
	ids       map[uint64]int // sequence -> copies
	keyErrors []string
	orderErrs []string
}

// readTopic reads every partition of topic to its end and checks, per
// partition, that the key is the user id and that the first copy of each
// user's events comes in sequence order.
func readTopic(t testing.TB, brokers []string, topic string) consumed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", brokers[0])
	if err != nil {
		t.Fatalf("dial %v: %v", brokers, err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	c := consumed{ids: map[uint64]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(parts))
	for _, part := range parts {
		wg.Add(1)
		go func(partition int) {
			defer wg.Done()
			if err := readPartition(ctx, brokers, topic, partition, &mu, &c); err != nil {
				errs <- err
			}
		}(part.ID)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return c
}

func readPartition(ctx context.Context, brokers []string, topic string, partition int, mu *sync.Mutex, c *consumed) error {
	lc, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, partition)
	if err != nil {
		return fmt.Errorf("dial leader of partition %d: %w", partition, err)
	}
	first, last, err := lc.ReadOffsets()
	lc.Close()
	if err != nil {
		return fmt.Errorf("offsets of partition %d: %w", partition, err)
	}
	if last <= first {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: partition,
		MaxWait: 50 * time.Millisecond, MinBytes: 1, MaxBytes: 4 << 20})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		return err
	}
	lastSeq := map[uint64]uint64{} // user -> last first-copy sequence
	seen := map[uint64]bool{}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("read partition %d at offset %d of %d: %w", partition, r.Offset(), last, err)
		}
		if string(m.Value) == warmUpValue {
			if m.Offset >= last-1 {
				return nil
			}
			continue
		}
		ev, err := events.Decode(m.Value)
		if err != nil {
			return fmt.Errorf("partition %d offset %d: %w", partition, m.Offset, err)
		}
		seq := ev.GetSequence()
		mu.Lock()
		c.total++
		c.ids[seq]++
		if want := string(appendKey(nil, ev.GetUserId())); string(m.Key) != want {
			c.keyErrors = append(c.keyErrors, fmt.Sprintf("seq %d: key %x, want %x", seq, m.Key, want))
		}
		if !seen[seq] {
			seen[seq] = true
			u := ev.GetUserId()
			if prev, ok := lastSeq[u]; ok && seq < prev {
				c.orderErrs = append(c.orderErrs, fmt.Sprintf("partition %d: user %d seq %d after %d", partition, u, seq, prev))
			}
			lastSeq[u] = seq
		}
		mu.Unlock()
		if m.Offset >= last-1 {
			return nil
		}
	}
}

// check asserts that the topic holds exactly the sequences [0, n), in
// order per user, keyed by user id; duplicates are allowed.
func (c consumed) check(t testing.TB, n int) {
	t.Helper()
	var missing []string
	for i := range n {
		if c.ids[uint64(i)] == 0 {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	extra := len(c.ids) - (n - len(missing))
	if len(missing) > 0 || extra != 0 {
		t.Fatalf("topic holds %d distinct events (%d messages), want %d: %d missing (first %v), %d unknown",
			len(c.ids), c.total, n, len(missing), missing[:min(len(missing), 10)], extra)
	}
	if len(c.keyErrors) > 0 {
		t.Fatalf("%d messages with a wrong key, first %v", len(c.keyErrors), c.keyErrors[0])
	}
	if len(c.orderErrs) > 0 {
		t.Fatalf("%d per-user order violations, first %v", len(c.orderErrs), c.orderErrs[:min(5, len(c.orderErrs))])
	}
	t.Logf("topic: %d distinct events, %d messages (%d duplicates)", len(c.ids), c.total, c.total-len(c.ids))
}

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
