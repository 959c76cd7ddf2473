// Package kafkaconn owns the plumbing to reach Kafka: dialing a broker of the
// list, creating topics idempotently, and the writer and reader settings the
// project relies on (acks from all replicas, explicit batch timeouts, no
// background commits).
package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// Dial connects to the first broker of the list that answers.
func Dial(ctx context.Context, brokers []string) (*kafka.Conn, error) {
	if len(brokers) == 0 {
		return nil, errors.New("dial kafka: no brokers configured")
	}
	var errs []error
	for _, b := range brokers {
		conn, err := kafka.DialContext(ctx, "tcp", b)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", b, err))
	}
	return nil, fmt.Errorf("dial kafka: %w", errors.Join(errs...))
}

// EnsureTopic creates topic with the given partitions if it does not exist.
// An existing topic is left as it is.
func EnsureTopic(ctx context.Context, brokers []string, topic string, partitions int) error {
	conn, err := Dial(ctx, brokers)
	if err != nil {
		return err
	}
	defer conn.Close()
	controller, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("find kafka controller: %w", err)
	}
	cc, err := kafka.DialContext(ctx, "tcp", net.JoinHostPort(controller.Host, strconv.Itoa(controller.Port)))
	if err != nil {
		return fmt.Errorf("dial kafka controller: %w", err)
	}
	defer cc.Close()
	err = cc.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1})
	if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create kafka topic %s: %w", topic, err)
	}
	// Metadata propagates asynchronously: wait until the partitions are visible.
	deadline := time.Now().Add(10 * time.Second)
	for {
		parts, err := conn.ReadPartitions(topic)
		if err == nil && len(parts) > 0 && allLed(parts) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka topic %s has no partitions after creation: %v", topic, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Writer is a kafka-go Writer with a transport of its own, closed with it.
type Writer struct {
	*kafka.Writer
	transport *kafka.Transport
}

// Close flushes and closes the writer, then its transport's connections.
func (w *Writer) Close() error {
	err := w.Writer.Close()
	w.transport.CloseIdleConnections()
	return err
}

// NewWriter returns a synchronous writer with the settings the project
// relies on: every message acknowledged by all in-sync replicas, an explicit
// batch timeout (kafka-go's default is a full second), hashing by key, and no
// retries hidden inside the writer (callers retry and dedupe by event id).
// Its transport is its own: kafka-go's shared default transport caches the
// cluster's metadata for 6 s, so a topic created just before (EnsureTopic,
// then import or replay in one process) would be unknown to a writer that
// shared a cache filled before the topic existed.
func NewWriter(brokers []string, topic string, batchTimeout time.Duration) *Writer {
	t := &kafka.Transport{}
	return &Writer{Writer: &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: batchTimeout,
		BatchSize:    1000,
		BatchBytes:   4 << 20,
		MaxAttempts:  1,
		Async:        false,
		Transport:    t,
	}, transport: t}
}

// allLed reports whether every partition has an elected leader, i.e. accepts writes.
func allLed(parts []kafka.Partition) bool {
	for _, p := range parts {
		if p.Leader.Host == "" || p.Leader.ID < 0 {
			return false
		}
	}
	return true
}
