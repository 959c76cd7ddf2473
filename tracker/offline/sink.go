package offline

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// MessageWriter is the part of kafka-go's Writer the sink uses.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Sink receives the core's events on the goroutine that drives the core: it
// stamps them with the caller's producer id (derived from the input — a
// simulation's seed, an imported log's files — so the same input gives the
// same event ids and bytes run to run, and a second run is deduplicated
// downstream), encodes them with the tracker's encoding, keeps a SHA-256 of
// the stream, and hands batches to one writer goroutine (order kept,
// back-pressure when the writer falls behind). A nil writer only counts and
// hashes.
type Sink struct {
	producer [8]byte
	id       [events.IDLen]byte // the current event's id (encoded before Publish returns)
	digest   hash.Hash
	batch    []kafka.Message
	arena    []byte // the batch's encoded events, one allocation per batch
	keys     []byte // the batch's keys, likewise
	size     int
	ch       chan []kafka.Message
	done     chan struct{}
	mu       sync.Mutex
	err      error

	Events, Accepted, Refused, Bytes int64
	// Refusals counts refused events by reason.
	Refusals map[string]int64
	// Sanitized counts events whose strings held invalid UTF-8 (aria2's
	// binary `key`), replaced by U+FFFD as the tracker's stream producer does.
	Sanitized int64
	// Unencodable counts events that could not be encoded even then;
	// FirstEncodeError says why.
	Unencodable      int64
	FirstEncodeError string

	// Recycle, when set, is given every event once it is encoded (the
	// core's core.EventPool.Put when the core was built with that pool).
	Recycle func(*events.Announce)
}

// NewSink starts the writer goroutine. batchSize messages are written per
// call; every event is stamped with producer.
func NewSink(ctx context.Context, w MessageWriter, producer [8]byte, batchSize int) *Sink {
	s := &Sink{producer: producer, digest: sha256.New(), size: max(batchSize, 1), done: make(chan struct{}), Refusals: map[string]int64{}}
	s.ch = make(chan []kafka.Message, 4)
	go func() {
		defer close(s.done)
		for msgs := range s.ch {
			if w == nil || s.Err() != nil {
				continue
			}
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				s.fail(fmt.Errorf("write %d events to kafka: %w", len(msgs), err))
			}
		}
	}()
	return s
}

// ProducerID is the producer id stamped on every event.
func (s *Sink) ProducerID() [8]byte { return s.producer }

func (s *Sink) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// Err is the first error of the writer or of encoding.
func (s *Sink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Publish implements core.Sink.
func (s *Sink) Publish(ev *events.Announce) {
	if s.Recycle != nil {
		defer s.Recycle(ev)
	}
	// Same bytes as events.ID(s.producer, sequence), without its allocation.
	copy(s.id[:8], s.producer[:])
	binary.BigEndian.PutUint64(s.id[8:], ev.GetSequence())
	ev.ProducerId = s.producer[:]
	ev.EventId = s.id[:]
	if s.arena == nil {
		s.arena = make([]byte, 0, s.size*320)
	}
	start := len(s.arena)
	arena, err := events.AppendEncode(s.arena, ev)
	if err != nil {
		events.SanitizeStrings(ev)
		s.Sanitized++
		arena, err = events.AppendEncode(s.arena[:start], ev)
	}
	if err != nil {
		s.Unencodable++
		if s.FirstEncodeError == "" {
			s.FirstEncodeError = fmt.Sprintf("%v (user %d, peer_id %q, key %q, user agent %q)", err, ev.GetUserId(), ev.GetPeerId(), ev.GetKey(), ev.GetUserAgent())
		}
		return
	}
	if err := events.Validate(ev); err != nil {
		s.fail(fmt.Errorf("core produced an invalid event: %w", err))
		return
	}
	// A grown arena leaves the batch's earlier messages in the old array, which they keep alive.
	s.arena = arena
	b := arena[start:len(arena):len(arena)]
	if s.keys == nil {
		s.keys = make([]byte, 0, 8*s.size)
	}
	s.keys = binary.BigEndian.AppendUint64(s.keys, ev.GetUserId())
	key := s.keys[len(s.keys)-8 : len(s.keys) : len(s.keys)]
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	s.digest.Write(n[:])
	s.digest.Write(b)
	s.Events++
	s.Bytes += int64(len(b))
	if ev.GetResult() == events.Result_RESULT_ACCEPTED {
		s.Accepted++
	} else {
		s.Refused++
		s.Refusals[ev.GetRefusal().String()]++
	}
	s.batch = append(s.batch, kafka.Message{Key: key, Value: b})
	if len(s.batch) >= s.size {
		s.ch <- s.batch
		s.batch = make([]kafka.Message, 0, s.size)
		s.arena = make([]byte, 0, cap(s.arena))
		s.keys = make([]byte, 0, 8*s.size)
	}
}

// Close writes what is left and waits for the writer.
func (s *Sink) Close() error {
	if len(s.batch) > 0 {
		s.ch <- s.batch
		s.batch = nil
	}
	close(s.ch)
	<-s.done
	return s.Err()
}

// Digest is the SHA-256 of every encoded event, length-prefixed, in order.
func (s *Sink) Digest() string { return hex.EncodeToString(s.digest.Sum(nil)) }
