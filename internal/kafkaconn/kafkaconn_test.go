package kafkaconn_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"os"
)

// Fast unit test against the in-process kfake broker; the integration suite
// (internal/testenv) runs the same round trip against the real broker.
func TestEnsureTopicAndRoundTripOnKfake(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	RoundTrip(t, cluster.ListenAddrs())
}

// RoundTrip creates a topic, writes three keyed messages and reads them back.
func RoundTrip(t *testing.T, brokers []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	topic := "roundtrip-" + time.Now().Format("150405.000000")
	if err := kafkaconn.EnsureTopic(ctx, brokers, topic, 2); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	if err := kafkaconn.EnsureTopic(ctx, brokers, topic, 2); err != nil {
		t.Fatalf("EnsureTopic twice: %v", err)
	}
	w := kafkaconn.NewWriter(brokers, topic, 10*time.Millisecond)
	defer w.Close()
	msgs := []kafka.Message{
		{Key: []byte("u1"), Value: []byte("a")},
		{Key: []byte("u1"), Value: []byte("b")},
		{Key: []byte("u1"), Value: []byte("c")},
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
	// Same key → same partition, in order.
	var got []string
	for p := 0; p < 2 && len(got) < 3; p++ {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		if err := r.SetOffset(kafka.FirstOffset); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
		for len(got) < 3 {
			m, err := r.ReadMessage(rctx)
			if err != nil {
				break
			}
			got = append(got, string(m.Value))
		}
		rcancel()
		r.Close()
	}
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("read back %v, want [a b c]", got)
	}
}

func TestRoundTripOnRealBroker(t *testing.T) {
	brokers := config.SplitList(os.Getenv(config.EnvKafkaBrokers))
	if len(brokers) == 0 {
		testenv.Kafka(t, 1) // skips on a laptop, fails in CI
	}
	RoundTrip(t, brokers)
}
