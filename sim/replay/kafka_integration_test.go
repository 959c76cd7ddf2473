package replay

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// A small replay lands on the real broker: every event once, decodable, keyed
// by user id, stamped with the replay's producer id.
func TestReplayToKafka(t *testing.T) {
	k := testenv.Kafka(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, p := smallSpec(t, 11)
	s.Duration = 12 * time.Hour
	p.End = p.Start.Add(s.Duration)
	w := kafkaconn.NewWriter(k.Brokers, k.Topic, 5*time.Millisecond)
	defer w.Close()
	res, err := Run(ctx, s, p, Options{Writer: w, BatchSize: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events < 1000 {
		t.Fatalf("only %d events", res.Events)
	}
	conn, err := kafkaconn.Dial(ctx, k.Brokers)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(k.Topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var producer [8]byte
	for _, part := range parts {
		leader, err := kafka.DialLeader(ctx, "tcp", k.Brokers[0], k.Topic, part.ID)
		if err != nil {
			t.Fatal(err)
		}
		end, err := leader.ReadLastOffset()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leader.Seek(0, kafka.SeekAbsolute); err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < end; {
			_ = leader.SetReadDeadline(time.Now().Add(10 * time.Second))
			batch := leader.ReadBatch(1, 10<<20)
			for {
				m, err := batch.ReadMessage()
				if err != nil {
					break
				}
				off = m.Offset + 1
				ev, err := events.Decode(m.Value)
				if err != nil {
					t.Fatalf("undecodable event at %d/%d: %v", part.ID, m.Offset, err)
				}
				if binary.BigEndian.Uint64(m.Key) != ev.GetUserId() {
					t.Fatalf("key %x for user %d", m.Key, ev.GetUserId())
				}
				copy(producer[:], ev.GetProducerId())
				if seen[string(ev.GetEventId())] {
					t.Fatalf("event %x twice", ev.GetEventId())
				}
				seen[string(ev.GetEventId())] = true
			}
			if err := batch.Close(); err != nil {
				t.Fatalf("partition %d: %v", part.ID, err)
			}
		}
		leader.Close()
	}
	if int64(len(seen)) != res.Events {
		t.Fatalf("%d events on the topic, replay wrote %d", len(seen), res.Events)
	}
	if string(producer[:4]) != "simR" {
		t.Fatalf("producer id %q is not the replay's", producer)
	}
	t.Logf("%d events written in %s, %d partitions, %s", res.Events, res.Elapsed, len(parts), k.Describe())
}
