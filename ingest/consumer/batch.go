// Package consumer owns reading the announces topic for one sink: partitions
// assigned by a Kafka consumer group whose offsets are never committed to
// Kafka (the sink stores them with its data and is asked for them on every
// assignment), per-partition batches cut by size and time, decoding, dead
// letters for undecodable messages, and retrying a sink that is down without
// moving past anything it has not stored.
package consumer

import (
	"context"
	"errors"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Event is one decoded announce with where it was read.
type Event struct {
	Offset int64
	A      *events.Announce
}

// DeadLetter is a message that did not decode; it goes to the dead-letter
// topic with the reason and its origin.
type DeadLetter struct {
	Offset int64
	Key    []byte
	Value  []byte
	Reason string
}

// Batch is a contiguous range of one partition: every record with
// Prev <= offset < Next that this consumer read, decoded or dead.
type Batch struct {
	Topic     string
	Partition int32
	// Prev is the next offset the sink had stored before this batch, -1 if
	// it had stored none. A sink that finds a different stored offset must
	// refuse the batch with ErrFenced (another consumer moved it).
	Prev int64
	// Next is the offset the sink stores with this batch's data: the last
	// record's offset + 1.
	Next   int64
	Events []Event
	Dead   []DeadLetter
	// First is when the batch's first record was read (for latency figures).
	First time.Time
}

// Sink is where a consumer stores batches: the data and the offsets together.
type Sink interface {
	// Name is the consumer's name, used for its Kafka group and its offsets.
	Name() string
	// Resume returns the next offset to read from a partition, -1 if none is stored.
	Resume(ctx context.Context, topic string, partition int32) (int64, error)
	// Store stores the batch's events and batch.Next, exactly once.
	Store(ctx context.Context, b *Batch) error
}

// ErrFenced is returned by Sink.Store when the stored offset is not b.Prev:
// another consumer wrote this partition. The batch is dropped and the
// partition re-read from the stored offset.
var ErrFenced = errors.New("stored offset moved: partition written by another consumer")

// decode turns a record value into an event or a dead letter.
func decode(offset int64, key, value []byte) (Event, *DeadLetter) {
	a := &events.Announce{}
	if err := events.DecodeInto(value, a); err != nil {
		return Event{}, &DeadLetter{Offset: offset, Key: key, Value: value, Reason: err.Error()}
	}
	return Event{Offset: offset, A: a}, nil
}
