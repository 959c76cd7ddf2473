package stream

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// On the real broker of the local stack: every published event comes back,
// keyed by user, in order per user.
func TestRealKafkaRoundTrip(t *testing.T) {
	k := testenv.Kafka(t, 4)
	warmUp(t, k.Brokers, k.Topic) // else the first write may fail (then be spooled)
	cfg := testConfig(t, k.Brokers, k.Topic)
	const n = 20000
	// A queue that holds everything: this test is about the direct path.
	cfg.BatchSize, cfg.BatchTimeout, cfg.QueueSize = 1000, 5*time.Millisecond, n
	p := start(t, cfg)
	publishRange(p, 0, n)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	t.Logf("%s: %+v", k.Describe(), st)
	if st.Dropped != 0 || st.Spooled != 0 || st.Produced != n {
		t.Fatalf("stats %+v: want every event written directly, none spooled or dropped", st)
	}
	readTopic(t, k.Brokers, k.Topic).check(t, n)
}
