package testenv

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// Announces reads back every event on the topic, partition by partition in
// offset order. Each must decode and be keyed by its user id (big-endian),
// as the tracker's writers key them; the test fails otherwise.
func (k KafkaTopic) Announces(ctx context.Context, t testing.TB) []*events.Announce {
	t.Helper()
	conn, err := kafkaconn.Dial(ctx, k.Brokers)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(k.Topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out []*events.Announce
	for _, part := range parts {
		leader, err := kafka.DialLeader(ctx, "tcp", k.Brokers[0], k.Topic, part.ID)
		if err != nil {
			t.Fatal(err)
		}
		end, err := leader.ReadLastOffset()
		if err == nil {
			_, err = leader.Seek(0, kafka.SeekAbsolute)
		}
		if err != nil {
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
				out = append(out, ev)
			}
			if err := batch.Close(); err != nil {
				t.Fatalf("partition %d: %v", part.ID, err)
			}
		}
		leader.Close()
	}
	return out
}
