// Package consumer owns reading the announces topic for one sink: partitions
// assigned by a Kafka consumer group whose offsets are never committed to
// Kafka (the sink stores them with its data and is asked for them on every
// assignment), per-partition batches cut by size and time, decoding, dead
// letters for undecodable messages, and retrying a sink that is down without
// moving past anything it has not stored.
package consumer

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Event is one decoded announce with where it was read (sinks that are not
// Decoders get their batches' events in this form).
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
	Next int64
	// Events are the decoded records, unless the sink is a Decoder: then
	// they are in Data and Events is empty.
	Events []Event
	Data   BatchData
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

// Decoder is a Sink that decodes record values itself, into a form of its
// own (the ClickHouse loader: straight into its column buffers), instead of
// receiving *events.Announce values.
type Decoder interface {
	Sink
	// NewBatchData returns an empty BatchData for a partition's batches.
	// The consumer keeps one per assigned partition and resets it for
	// every batch once the previous one is stored or dropped.
	NewBatchData(partition int32) BatchData
}

// BatchData is a batch's decoded records in a Decoder's own form.
type BatchData interface {
	// Add decodes one record value; an error dead-letters the record with
	// the error as the reason. value is only valid during the call.
	Add(offset int64, value []byte) error
	// Len is the number of records added.
	Len() int
	// Reset empties it, keeping its buffers.
	Reset()
	// EventTimes calls fn with each added event's time (Unix nanoseconds).
	EventTimes(fn func(unixNano int64))
}

// Len is the number of records in the batch, decoded or dead.
func (b *Batch) Len() int {
	n := len(b.Events) + len(b.Dead)
	if b.Data != nil {
		n += b.Data.Len()
	}
	return n
}

// EventTimes calls fn with the time of each decoded event (Unix
// nanoseconds), whichever form the events are in.
func (b *Batch) EventTimes(fn func(unixNano int64)) {
	for _, ev := range b.Events {
		fn(ev.A.GetTimeUnixNano())
	}
	if b.Data != nil {
		b.Data.EventTimes(fn)
	}
}

// ErrFenced is returned by Sink.Store when the stored offset is not b.Prev:
// another consumer wrote this partition. The batch is dropped and the
// partition re-read from the stored offset.
var ErrFenced = errors.New("stored offset moved: partition written by another consumer")

// add decodes a record into the batch: into b.Data if the sink is a
// Decoder, else into b.Events; undecodable ones into b.Dead (their key and
// value copied: a dead letter does not pin the fetch buffer it came in).
func (b *Batch) add(offset int64, key, value []byte) {
	var err error
	if b.Data != nil {
		err = b.Data.Add(offset, value)
	} else {
		a := &events.Announce{}
		if err = events.DecodeInto(value, a); err == nil {
			b.Events = append(b.Events, Event{Offset: offset, A: a})
		}
	}
	if err != nil {
		b.Dead = append(b.Dead, DeadLetter{Offset: offset, Key: bytes.Clone(key), Value: bytes.Clone(value), Reason: err.Error()})
	}
}
