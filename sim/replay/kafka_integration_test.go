package replay

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// A small replay lands on the real broker: every event once, decodable, keyed
// by user id, stamped with the replay's producer id.
func TestReplayToKafka(t *testing.T) {
	const partitions = 3
	k := testenv.Kafka(t, partitions)
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
	seen := map[string]bool{}
	var producer [8]byte
	for _, ev := range k.Announces(ctx, t) {
		copy(producer[:], ev.GetProducerId())
		if seen[string(ev.GetEventId())] {
			t.Fatalf("event %x twice", ev.GetEventId())
		}
		seen[string(ev.GetEventId())] = true
	}
	if int64(len(seen)) != res.Events {
		t.Fatalf("%d events on the topic, replay wrote %d", len(seen), res.Events)
	}
	if string(producer[:4]) != "simR" {
		t.Fatalf("producer id %q is not the replay's", producer)
	}
	t.Logf("%d events written in %s, %d partitions, %s", res.Events, res.Elapsed, partitions, k.Describe())
}
