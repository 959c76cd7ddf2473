package stream

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// The fault test: the Kafka broker stops under load (a crash with
// SIGKILL, then a clean stop), every Publish still returns, and once the
// broker is back the topic holds exactly the events published (duplicates
// of the same event id allowed). It runs its own private broker; the shared
// one is never touched.
//
// Default (CI): 10 s down after the crash, 5 s after the clean stop,
// 2,000 events/s. RG_LONG=1: 2 minutes and 1 minute at 10,000 events/s.
func TestKafkaOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private Kafka broker")
	}
	down, rate := 10*time.Second, 2000
	if os.Getenv("RG_LONG") == "1" {
		down, rate = 2*time.Minute, 10000
	}
	b := testenv.StartKafkaBroker(t)
	brokers, topic := []string{b.Addr}, "announces"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafkaconn.EnsureTopic(ctx, brokers, topic, 4); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, brokers, topic)
	cfg.QueueSize, cfg.BatchSize, cfg.BatchTimeout = 4096, 1000, 5*time.Millisecond
	cfg.RetryMin, cfg.RetryMax = 100*time.Millisecond, time.Second
	p := start(t, cfg)

	// Load: rate events/s in 10 ms ticks, until stopped.
	var published atomic.Int64
	var slowest atomic.Int64 // ns, the slowest Publish call
	var over1ms, over10ms atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		perTick := rate / 100
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for range perTick {
				seq := uint64(published.Load())
				t0 := time.Now()
				p.Publish(event(seq))
				d := time.Since(t0)
				if d > time.Duration(slowest.Load()) {
					slowest.Store(int64(d))
				}
				if d > time.Millisecond {
					over1ms.Add(1)
				}
				if d > 10*time.Millisecond {
					over10ms.Add(1)
				}
				published.Add(1)
			}
		}
	}()
	waitReplayed := func(phase string) {
		t.Helper()
		eventually(t, phase+": spool replayed and direct mode back", 2*down+60*time.Second, func() bool {
			st := p.Stats()
			return !st.Spooling && st.SpoolRecords == 0
		})
		t.Logf("%s: %+v", phase, p.Stats())
	}
	outage := func(phase string, stopBroker func(), d time.Duration) {
		t.Helper()
		before := published.Load()
		stopBroker()
		eventually(t, phase+": producer spooling", 30*time.Second, func() bool { return p.Stats().Spooling })
		time.Sleep(d)
		t.Logf("%s: %d events published while the broker was down, %+v", phase, published.Load()-before, p.Stats())
		b.Start()
		waitReplayed(phase)
	}

	time.Sleep(2 * time.Second)
	outage("crash (SIGKILL)", b.Kill, down)
	time.Sleep(time.Second)
	outage("clean stop (SIGTERM)", b.Stop, down/2)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := int(published.Load())
	st := p.Stats()
	t.Logf("published %d events; Publish calls over 1 ms: %d, over 10 ms: %d, slowest %v; stats %+v",
		n, over1ms.Load(), over10ms.Load(), time.Duration(slowest.Load()), st)
	if st.Published != uint64(n) || st.Dropped != 0 || st.Spooled == 0 || st.Replayed == 0 {
		t.Fatalf("stats %+v: want all %d published, some spooled and replayed, none dropped", st, n)
	}
	readTopic(t, brokers, topic).check(t, n)
}
