package tracker

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/frontend"
)

// report is what a client said in one announce, seen at the HTTP level,
// independently of the tracker's accounting.
type report struct {
	uploaded, downloaded, left uint64
	event                      string
}

// recorder wraps the tracker's handler and keeps every answered announce,
// per (passkey, peer_id), in arrival order.
type recorder struct {
	mu       sync.Mutex
	sessions map[string][]report // passkey + "/" + peer_id
	order    []string
	n        int // announces answered
}

func newRecorder() *recorder { return &recorder{sessions: map[string][]report{}} }

func (rec *recorder) wrap(next frontend.Handler) frontend.Handler {
	return frontend.HandlerFunc(func(w frontend.ResponseWriter, r *frontend.Request) {
		next.ServeTracker(w, r)
		passkey, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/announce")
		if !ok {
			return
		}
		q, _ := url.ParseQuery(r.URL.RawQuery)
		num := func(k string) uint64 { n, _ := strconv.ParseUint(q.Get(k), 10, 64); return n }
		rp := report{uploaded: num("uploaded"), downloaded: num("downloaded"), left: num("left"), event: q.Get("event")}
		key := passkey + "/" + q.Get("peer_id")
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if _, seen := rec.sessions[key]; !seen {
			rec.order = append(rec.order, key)
		}
		rec.sessions[key] = append(rec.sessions[key], rp)
		rec.n++
	})
}

// sawAnnounce reports whether a client whose peer_id starts with prefix
// announced under passkey with left=0.
func (rec *recorder) sawFinished(passkey, prefix string) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for key, rs := range rec.sessions {
		if strings.HasPrefix(key, passkey+"/"+prefix) && rs[len(rs)-1].left == 0 {
			return true
		}
	}
	return false
}

// reported is, per passkey, the bytes the clients reported: per session, the
// sum of the increases of their counters between consecutive announces (the
// first announce is the baseline; a counter going down is a restart and
// starts a new baseline). Also returns the number of sessions per passkey.
func (rec *recorder) reported() (up, down map[string]uint64, sessions map[string]int, answered int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	up, down, sessions = map[string]uint64{}, map[string]uint64{}, map[string]int{}
	for _, key := range rec.order {
		passkey, _, _ := strings.Cut(key, "/")
		rs := rec.sessions[key]
		sessions[passkey]++
		for i := 1; i < len(rs); i++ {
			if rs[i].uploaded >= rs[i-1].uploaded {
				up[passkey] += rs[i].uploaded - rs[i-1].uploaded
			}
			if rs[i].downloaded >= rs[i-1].downloaded {
				down[passkey] += rs[i].downloaded - rs[i-1].downloaded
			}
		}
	}
	return up, down, sessions, rec.n
}

func (rec *recorder) describe() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var b strings.Builder
	for _, key := range rec.order {
		passkey, peer, _ := strings.Cut(key, "/")
		rs := rec.sessions[key]
		last := rs[len(rs)-1]
		fmt.Fprintf(&b, "\n  %s…/%q: %d announces, last up %d down %d left %d event %q",
			passkey[:6], peer[:min(8, len(peer))], len(rs), last.uploaded, last.downloaded, last.left, last.event)
	}
	return b.String()
}

// topicEvents reads every message of topic (all partitions, from the first
// offset to the end as of the call), decoded, with its key. Duplicates of
// the same event id (producer retries, spool replays) must be byte for byte
// identical; the first copy of each id is returned, in partition order.
type consumedEvent struct {
	ev  *events.Announce
	key []byte
}

func readTopicEvents(t *testing.T, brokers []string, topic string) (evs []consumedEvent, duplicates int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	firstCopy := map[string][]byte{}
	for _, part := range parts {
		for _, m := range readPartition(ctx, t, brokers, topic, part.ID) {
			ev, err := events.Decode(m.Value)
			if err != nil {
				t.Fatalf("partition %d offset %d: undecodable event: %v", part.ID, m.Offset, err)
			}
			if err := events.Validate(ev); err != nil {
				t.Fatalf("partition %d offset %d: invalid event: %v", part.ID, m.Offset, err)
			}
			id := string(ev.EventId)
			if prev, dup := firstCopy[id]; dup {
				if !bytes.Equal(prev, m.Value) {
					t.Fatalf("event id %x appears twice with different contents", ev.EventId)
				}
				duplicates++
				continue
			}
			firstCopy[id] = m.Value
			evs = append(evs, consumedEvent{ev: ev, key: m.Key})
		}
	}
	return evs, duplicates
}

func readPartition(ctx context.Context, t *testing.T, brokers []string, topic string, partition int) []kafka.Message {
	t.Helper()
	lc, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, partition)
	if err != nil {
		t.Fatalf("dial leader of partition %d: %v", partition, err)
	}
	first, last, err := lc.ReadOffsets()
	lc.Close()
	if err != nil {
		t.Fatalf("offsets of partition %d: %v", partition, err)
	}
	if last <= first {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: partition,
		MaxWait: 50 * time.Millisecond, MinBytes: 1, MaxBytes: 4 << 20})
	defer r.Close()
	if err := r.SetOffset(first); err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read partition %d at offset %d of %d: %v", partition, r.Offset(), last, err)
		}
		out = append(out, m)
		if m.Offset >= last-1 {
			return out
		}
	}
}
