package consumer

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// watchEnds learns the end offsets from the broker with no fetch at all
// (consumption paused by a sink that cannot store), and a high watermark
// never goes down.
func TestWatchEndsRaisesHighWater(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("t"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 3 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 1, Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	w := &worker{}
	w.highWater.Store(-1)
	con := &consumer{cfg: Config{Topic: "t", LagEvery: 10 * time.Millisecond}, cl: cl, workers: map[int32]*worker{1: w}}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); con.watchEnds(wctx) }()
	for w.highWater.Load() != 3 {
		select {
		case <-ctx.Done():
			t.Fatalf("high watermark %d, want the 3 records' end", w.highWater.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	stop()
	<-done
	w.raiseHighWater(2)
	if got := w.highWater.Load(); got != 3 {
		t.Errorf("high watermark went down to %d", got)
	}
}
