package state_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
	"github.com/ratioguard/ratioguard/tracker/state"
)

const benchReplayEvents = 200_000

// replayTopic is a topic holding one accepted event per session
// (benchReplayEvents sessions of 4 per member), keyed by member.
func replayTopic(b *testing.B) (brokers []string, topic string) {
	b.Helper()
	k := kafkaTopic(b)
	w := kafkaconn.NewWriter(k.Brokers, k.Topic, time.Millisecond)
	defer w.Close()
	ev := &events.Announce{SchemaVersion: 1, EventId: make([]byte, 16), Result: events.Result_RESULT_ACCEPTED,
		Port: 51413, Left: 1 << 20, Event: events.Event_EVENT_STARTED, TimeUnixNano: time.Now().UnixNano()}
	msgs := make([]kafka.Message, 0, 1000)
	for i := range benchReplayEvents {
		user := uint64(i/4 + 1)
		binary.BigEndian.PutUint64(ev.EventId[8:], uint64(i+1))
		ev.UserId, ev.TorrentId = user, uint64(i%50_000+1)
		ev.PeerId = fmt.Appendf(nil, "-qB4650-%012d", i)
		ev.Ip = []byte{10, byte(user >> 16), byte(user >> 8), byte(user)}
		ev.Uploaded = uint64(i) * 1000
		v, err := events.Encode(ev)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Key: binary.BigEndian.AppendUint64(nil, user), Value: v})
		if len(msgs) == cap(msgs) || i == benchReplayEvents-1 {
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	return k.Brokers, k.Topic
}

// BenchmarkRestoreFromKafka: one op is a start without a snapshot that
// replays 200,000 events from the real Kafka (fetch, decode, learn: 3
// partitions in parallel). Baseline in the same run, /fetch+decode: the
// same records fetched and decoded by one consumer, nothing learnt.
func BenchmarkRestoreFromKafka(b *testing.B) {
	brokers, topic := replayTopic(b)
	b.Run("restore", func(b *testing.B) {
		for range b.N {
			keeper, err := state.Open(state.Config{Dir: filepath.Join(b.TempDir(), "state"), Brokers: brokers, Topic: topic,
				Window: time.Hour, Every: -1}, testLog(b))
			if err != nil {
				b.Fatal(err)
			}
			c := core.New(core.Config{Interval: 30 * time.Minute, Epoch: keeper.Epoch()}, policy.NewCache(), nil, core.SystemClock{})
			res, err := keeper.Restore(context.Background(), c, nil)
			keeper.Close()
			if err != nil || res.KafkaEvents < benchReplayEvents || c.Stats().Peers != benchReplayEvents {
				b.Fatalf("restored %+v (%d peers), %v", res, c.Stats().Peers, err)
			}
		}
		b.ReportMetric(float64(b.N*benchReplayEvents)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("fetch+decode", func(b *testing.B) {
		for range b.N {
			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				b.Fatal(err)
			}
			var ev events.Announce
			n := 0
			for n < benchReplayEvents+1 { // + the warm-up event
				fs := cl.PollFetches(context.Background())
				fs.EachRecord(func(r *kgo.Record) {
					if err := events.DecodeInto(r.Value, &ev); err != nil {
						b.Fatal(err)
					}
					n++
				})
			}
			cl.Close()
		}
		b.ReportMetric(float64(b.N*benchReplayEvents)/b.Elapsed().Seconds(), "events/s")
	})
}
