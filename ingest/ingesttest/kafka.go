package ingesttest

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Produce writes msgs to topic in order (keyed, so a key's messages keep
// their order within its partition), acknowledged by all replicas.
func Produce(ctx context.Context, brokers []string, topic string, msgs []Msg) error {
	// Patient: the restart tests stop the broker under it, and a broker
	// SIGKILLed on a loaded machine takes tens of seconds to come back
	// (franz-go's default gives up initialising the producer id after 30 s).
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(4<<20), kgo.MaxBufferedRecords(200_000),
		kgo.RetryTimeout(3*time.Minute), kgo.RequestRetries(1000))
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer cl.Close()
	const chunk = 20_000
	for i := 0; i < len(msgs); i += chunk {
		recs := make([]*kgo.Record, 0, chunk)
		for _, m := range msgs[i:min(i+chunk, len(msgs))] {
			recs = append(recs, &kgo.Record{Key: m.Key, Value: m.Value})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("produce to %s: %w", topic, err)
		}
	}
	return nil
}

// EndOffsets returns the next offset of every partition of topic.
func EndOffsets(ctx context.Context, brokers []string, topic string) (map[int32]int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// DeadLetter is a message read back from a dead-letter topic.
type DeadLetter struct {
	Value   []byte
	Headers map[string]string
}

// ReadAll reads every message of topic currently in it.
func ReadAll(ctx context.Context, brokers []string, topic string) ([]DeadLetter, error) {
	ends, err := EndOffsets(ctx, brokers, topic)
	if err != nil {
		return nil, err
	}
	var want int64
	for _, e := range ends {
		want += e
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []DeadLetter
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("read %s: got %d of %d messages: %w", topic, len(out), want, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			h := map[string]string{}
			for _, kv := range r.Headers {
				h[kv.Key] = string(kv.Value)
			}
			out = append(out, DeadLetter{Value: r.Value, Headers: h})
		})
	}
	return out, nil
}
