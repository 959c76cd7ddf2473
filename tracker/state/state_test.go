package state_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
	"github.com/ratioguard/ratioguard/tracker/state"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

const interval = 30 * time.Second

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// hangable is a Kafka writer that, once hang is set, never completes a
// write: the producer's queue then holds what a SIGKILL loses.
type hangable struct {
	hang, fail *atomic.Bool
	next       stream.MessageWriter
}

var errDown = errors.New("injected: Kafka unreachable")

func (h hangable) WriteRecords(ctx context.Context, recs []kgo.Record) error {
	if h.fail.Load() {
		return errDown
	}
	if h.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.next.WriteRecords(ctx, recs)
}
func (h hangable) Close() error { return h.next.Close() }

// instance is one tracker process: a core over a real producer and a
// keeper, started as the tracker starts them.
type instance struct {
	t        testing.TB
	core     *core.Core
	producer *stream.Producer
	keeper   *state.Keeper
	hang     atomic.Bool
	fail     atomic.Bool // writes fail: events go to the spool
	cancel   context.CancelFunc
	restored state.Restored
}

type world struct {
	k    testenv.KafkaTopic
	pol  *policy.Cache
	dir  string
	pool *pgxpool.Pool // nil: Restore reads no ledger and no imported peers
}

// kafkaTopic is a fresh topic that already takes writes: kafka-go's shared
// transport keeps a topic unknown for a few seconds after it is created,
// and producers would spool meanwhile. The warm-up event is a refusal with
// no member, which changes no state and credits nothing.
func kafkaTopic(t testing.TB) testenv.KafkaTopic {
	t.Helper()
	return warmedUp(t, testenv.Kafka(t, 3))
}

// warmedUp writes the warm-up event to k until it is taken.
func warmedUp(t testing.TB, k testenv.KafkaTopic) testenv.KafkaTopic {
	t.Helper()
	v, err := events.Encode(&events.Announce{SchemaVersion: events.SchemaVersion, EventId: make([]byte, events.IDLen),
		TimeUnixNano: time.Now().UnixNano(), Result: events.Result_RESULT_REFUSED, Refusal: events.Refusal_REFUSAL_MALFORMED})
	if err != nil {
		t.Fatal(err)
	}
	w := kafkaconn.NewWriter(k.Brokers, k.Topic, time.Millisecond)
	defer w.Close()
	for i := 0; ; i++ {
		err := w.WriteMessages(context.Background(), kafka.Message{Key: make([]byte, 8), Value: v})
		if err == nil {
			return k
		}
		if i == 100 {
			t.Fatalf("topic %s never took writes: %v", k.Topic, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newWorld(t testing.TB, users, torrents int) *world {
	w := &world{k: kafkaTopic(t), pol: policy.NewCache(), dir: t.TempDir()}
	for u := 1; u <= users; u++ {
		w.pol.PutUser(passkey(uint64(u)), &core.User{ID: uint64(u), Enabled: true, CanLeech: true})
	}
	for i := 1; i <= torrents; i++ {
		w.pol.PutTorrent(infoHash(uint64(i)), &core.Torrent{ID: uint64(i), Size: 1 << 30, Promotion: core.NoPromotion})
	}
	return w
}

func passkey(u uint64) string { return fmt.Sprintf("%032x", u) }
func infoHash(id uint64) [20]byte {
	var h [20]byte
	copy(h[:], fmt.Sprintf("torrent-%012d", id))
	return h
}

// start runs an instance named name (its state and spool directories).
func (w *world) start(t testing.TB, name string, every time.Duration) *instance {
	t.Helper()
	in := &instance{t: t}
	log := testLog(t).With("instance", name)
	keeper, err := state.Open(state.Config{Dir: filepath.Join(w.dir, name, "state"), Brokers: w.k.Brokers, Topic: w.k.Topic,
		SpoolDir: filepath.Join(w.dir, name, "spool"), Window: 2 * interval, Every: every, FollowWait: 20 * time.Millisecond}, log)
	if err != nil {
		t.Fatal(err)
	}
	in.keeper = keeper
	in.producer, err = stream.New(context.Background(), stream.Config{Brokers: w.k.Brokers, Topic: w.k.Topic,
		SpoolDir: filepath.Join(w.dir, name, "spool"), WriteTimeout: time.Hour, BatchTimeout: time.Millisecond,
		NewWriter: func(b []string, topic string, bt time.Duration) stream.MessageWriter {
			return hangable{hang: &in.hang, fail: &in.fail, next: stream.KafkaWriter(b, topic, bt)}
		}}, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	in.core = core.New(core.Config{Interval: interval, MinInterval: time.Second, MaxIPs: 3, Epoch: keeper.Epoch()},
		w.pol, in.producer, core.SystemClock{})
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	if in.restored, err = keeper.Restore(ctx, in.core, w.pool); err != nil {
		t.Fatal(err)
	}
	go func() { _ = keeper.Run(ctx, in.core, in.producer.Settle) }()
	t.Cleanup(in.kill)
	return in
}

// stop is a clean stop: the producer drains to Kafka, then the snapshot.
func (in *instance) stop() {
	in.t.Helper()
	in.cancel()
	if err := in.producer.Close(context.Background()); err != nil {
		in.t.Fatal(err)
	}
	if _, err := in.keeper.Snapshot(context.Background(), in.core, nil); err != nil {
		in.t.Fatal(err)
	}
	in.keeper.Close()
}

// kill is a crash: no snapshot; what the producer's memory held never
// reaches Kafka (its writes hang; its spool directory is not reused).
func (in *instance) kill() {
	in.hang.Store(true)
	in.cancel()
	in.keeper.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = in.producer.Close(ctx)
}

// client is one BitTorrent session whose counters only grow.
type client struct {
	user, torrent uint64
	peer          [20]byte
	ip            netip.Addr
	up, down      uint64
	started       bool
	first         [2]uint64
}

func (c *client) announce(t *testing.T, in *instance, rng *rand.Rand) *core.Answer {
	t.Helper()
	ev := events.Event_EVENT_NONE
	if !c.started {
		ev = events.Event_EVENT_STARTED
	} else {
		c.up += rng.Uint64N(1 << 20)
		c.down += rng.Uint64N(1 << 18)
	}
	ih := infoHash(c.torrent)
	r := &core.Request{Passkey: passkey(c.user), InfoHash: ih[:], PeerID: c.peer[:], Addr: c.ip, Port: 51413,
		Uploaded: c.up, Downloaded: c.down, Left: 1 << 20, Event: ev, NumWant: 0}
	ans := &core.Answer{}
	in.core.Announce(r, ans)
	if ans.Failure != "" {
		t.Fatalf("user %d: %s", c.user, ans.Failure)
	}
	if !c.started {
		c.started, c.first = true, [2]uint64{c.up, c.down}
	}
	return ans
}

func clients(users, torrents int) []*client {
	var cs []*client
	for u := 1; u <= users; u++ {
		for i := 1; i <= torrents; i++ {
			c := &client{user: uint64(u), torrent: uint64(i), ip: netip.AddrFrom4([4]byte{10, 1, byte(u), 1}),
				up: uint64(u * 1000), down: uint64(i * 10)}
			copy(c.peer[:], fmt.Sprintf("-qB4650-%06d%06d", u, i))
			cs = append(cs, c)
		}
	}
	return cs
}

// credited sums, per member, the raw deltas of the distinct events on the
// topic: what the ledger credits.
func credited(t *testing.T, w *world) (up, down map[uint64]uint64, distinct int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := map[string]bool{}
	up, down = map[uint64]uint64{}, map[uint64]uint64{}
	for _, ev := range w.k.Announces(ctx, t) {
		if id := string(ev.GetEventId()); !seen[id] {
			seen[id] = true
			up[ev.GetUserId()] += ev.GetDeltaUploaded()
			down[ev.GetUserId()] += ev.GetDeltaDownloaded()
		}
	}
	return up, down, len(seen)
}

func checkCredit(t *testing.T, w *world, cs []*client) {
	t.Helper()
	wantUp, wantDown := map[uint64]uint64{}, map[uint64]uint64{}
	for _, c := range cs {
		wantUp[c.user] += c.up - c.first[0]
		wantDown[c.user] += c.down - c.first[1]
	}
	up, down, _ := credited(t, w)
	for u, want := range wantUp {
		if up[u] != want || down[u] != wantDown[u] {
			t.Errorf("member %d credited up %d down %d, clients reported %d and %d", u, up[u], down[u], want, wantDown[u])
		}
	}
}

// TestCrashAndCleanStopLoseNoCredit: instance a answers rounds of
// announces, snapshots, answers a round to Kafka and one to its spool
// (Kafka down), then the events of its last round stay in its memory and
// it crashes; b restores (snapshot + topic) and
// answers a round, stops cleanly; c restores from b's stop snapshot and
// answers a last round. Every member is credited exactly what the
// clients reported: the lost round's bytes by the next announce, none
// twice.
func TestCrashAndCleanStopLoseNoCredit(t *testing.T) {
	w := newWorld(t, 6, 4)
	cs := clients(6, 4)
	rng := rand.New(rand.NewPCG(1, 2))
	round := func(in *instance) {
		for _, c := range cs {
			c.announce(t, in, rng)
		}
	}
	ctx := context.Background()
	a := w.start(t, "a", -1)
	round(a)
	round(a)
	if _, err := a.keeper.Snapshot(ctx, a.core, a.producer.Settle); err != nil {
		t.Fatal(err)
	}
	round(a)
	a.fail.Store(true) // Kafka unreachable: the spool takes the next round
	round(a)
	if err := a.producer.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	a.hang.Store(true)
	round(a) // answered; its events die with the process
	// b starts on what a's directories hold at the crash: a SIGKILL keeps
	// the files (the spool is flushed: Settle) and loses the memory.
	w.restartDirs(t, "a", "b")
	a.kill()

	b := w.start(t, "b", -1)
	if b.restored.Snapshot == "" || b.restored.Sessions != len(cs) || b.restored.KafkaEvents < len(cs) || b.restored.SpoolEvents < len(cs) {
		t.Fatalf("b restored %+v; want a's snapshot of %d sessions, at least a round after it from Kafka and one from the spool (%d events each)",
			b.restored, len(cs), len(cs))
	}
	round(b)
	b.stop()

	w.restartDirs(t, "b", "c")
	c := w.start(t, "c", -1)
	if c.restored.Snapshot == "" || c.restored.Sessions != len(cs) {
		t.Fatalf("c restored %+v; want b's stop snapshot holding all %d sessions", c.restored, len(cs))
	}
	round(c)
	c.stop()
	checkCredit(t, w, cs)
}

// restartDirs copies instance from's state and spool directories to
// instance to's: the same tracker restarted on its directories (the
// crashed process's producer keeps running on its own copy).
func (w *world) restartDirs(t *testing.T, from, to string) {
	t.Helper()
	for _, sub := range []string{"state", "spool"} {
		src, dst := filepath.Join(w.dir, from, sub), filepath.Join(w.dir, to, sub)
		if err := os.MkdirAll(dst, 0o750); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || e.Name() == "LOCK" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// BenchmarkFollowLatency: one op is an announce answered by instance a
// until instance b learnt it (b polls its follower's count every 0.1 ms):
// how soon a member's new location or an address's unknown passkey counts
// on the other instances. The baseline in the same run,
// BenchmarkFollowLatency/settle, is the producer's part alone: the
// announce until a's producer has it acknowledged by Kafka.
func BenchmarkFollowLatency(b *testing.B) {
	for _, name := range []string{"settle", "learnt"} {
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, 1, 1)
			a, other := w.start(b, "a", -1), w.start(b, "b", -1)
			r := &core.Request{Passkey: "ffffffffffffffffffffffffffffffff", Addr: netip.MustParseAddr("192.0.2.1"), Port: 51413}
			ans := &core.Answer{}
			b.ResetTimer()
			for range b.N {
				before := other.keeper.Stats().Learnt
				a.core.Announce(r, ans)
				if name == "settle" {
					if err := a.producer.Settle(context.Background()); err != nil {
						b.Fatal(err)
					}
					continue
				}
				for other.keeper.Stats().Learnt == before {
					time.Sleep(100 * time.Microsecond)
				}
			}
		})
	}
}

// TestACorruptNewestSnapshotFallsBackToTheOlder: a snapshot torn by a crash
// while it was written (or damaged on disk) is skipped with a warning and
// the previous one is loaded; the replay from its older offsets still
// rebuilds everything.
func TestACorruptNewestSnapshotFallsBackToTheOlder(t *testing.T) {
	w := newWorld(t, 2, 2)
	cs := clients(2, 2)
	rng := rand.New(rand.NewPCG(3, 4))
	a := w.start(t, "a", -1)
	for _, c := range cs {
		c.announce(t, a, rng)
	}
	good, err := a.keeper.Snapshot(context.Background(), a.core, a.producer.Settle)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		c.announce(t, a, rng)
	}
	a.stop()
	files, _ := filepath.Glob(filepath.Join(w.dir, "a", "state", "state-*.snap"))
	if len(files) != 2 {
		t.Fatalf("snapshots %v, want the periodic one and the stop one", files)
	}
	newest := files[1]
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newest, b[:len(b)/2], 0o640); err != nil {
		t.Fatal(err)
	}
	w.restartDirs(t, "a", "b")
	nb := w.start(t, "b", -1)
	if filepath.Base(nb.restored.Snapshot) != filepath.Base(good) || nb.restored.KafkaEvents < len(cs) {
		t.Fatalf("restored %+v; want the older snapshot %s and the round after it from Kafka", nb.restored, filepath.Base(good))
	}
	for _, c := range cs {
		c.announce(t, nb, rng)
	}
	nb.stop()
	checkCredit(t, w, cs)
}
