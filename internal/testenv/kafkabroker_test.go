package testenv_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// The private broker keeps acknowledged messages across a crash (SIGKILL)
// and a clean stop, on the same address.
func TestPrivateKafkaBrokerSurvivesKillAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM three times")
	}
	b := testenv.StartKafkaBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	brokers := []string{b.Addr}
	if err := kafkaconn.EnsureTopic(ctx, brokers, "private", 1); err != nil {
		t.Fatal(err)
	}
	write := func(v string) {
		t.Helper()
		w := kafkaconn.NewWriter(brokers, "private", time.Millisecond)
		defer w.Close()
		var err error
		for range 50 { // leadership settles a moment after a restart
			if err = w.WriteMessages(ctx, kafka.Message{Value: []byte(v)}); err == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("write %q: %v", v, err)
	}
	write("before kill")
	b.Kill()
	if b.Running() {
		t.Fatal("still running after Kill")
	}
	b.Start()
	write("after kill")
	b.Stop()
	b.Start()

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "private", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	var got []string
	for len(got) < 2 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read back after a restart: %v (got %v)", err, got)
		}
		got = append(got, string(m.Value))
	}
	if got[0] != "before kill" || got[1] != "after kill" {
		t.Fatalf("read %v", got)
	}
}
