package events

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// SchemaVersion is the version this build produces.
const SchemaVersion = 1

// Topic is the Kafka topic announces are streamed to.
const Topic = "announces"

// IDLen is the length of an event id: producer id (8 bytes) + sequence (8 bytes).
const IDLen = 16

// ID builds the event id of the sequence-th event of a producer.
func ID(producer [8]byte, sequence uint64) []byte {
	id := make([]byte, IDLen)
	copy(id, producer[:])
	binary.BigEndian.PutUint64(id[8:], sequence)
	return id
}

// ErrInvalid wraps every reason Decode rejects a message.
var ErrInvalid = errors.New("invalid announce event")

// Encode serialises an event (deterministic field order, so a replay of the
// same event yields the same bytes).
func Encode(a *Announce) ([]byte, error) {
	if b, ok := appendAnnounce(nil, a); ok {
		return b, nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode announce event: %w", err)
	}
	return b, nil
}

// AppendEncode appends the serialised event to buf, for allocation-free
// reuse. The bytes are proto.Marshal's, written without reflection.
func AppendEncode(buf []byte, a *Announce) ([]byte, error) {
	if b, ok := appendAnnounce(buf, a); ok {
		return b, nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(buf, a)
	if err != nil {
		return buf, fmt.Errorf("encode announce event: %w", err)
	}
	return b, nil
}

// Decode parses a message of any schema version up to SchemaVersion (and
// newer ones, whose unknown fields are ignored) and checks the invariants
// every consumer relies on.
func Decode(b []byte) (*Announce, error) {
	a := &Announce{}
	if err := DecodeInto(b, a); err != nil {
		return nil, err
	}
	return a, nil
}

// DecodeInto is Decode into a caller-owned message (reset first).
func DecodeInto(b []byte, a *Announce) error {
	if err := proto.Unmarshal(b, a); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return Validate(a)
}

// Validate checks the invariants a consumer relies on.
func Validate(a *Announce) error {
	switch {
	case a.GetSchemaVersion() == 0:
		return fmt.Errorf("%w: schema_version missing", ErrInvalid)
	case len(a.GetEventId()) != IDLen:
		return fmt.Errorf("%w: event_id has %d bytes, want %d", ErrInvalid, len(a.GetEventId()), IDLen)
	case a.GetTimeUnixNano() <= 0:
		return fmt.Errorf("%w: time missing", ErrInvalid)
	case a.GetResult() == Result_RESULT_UNSPECIFIED:
		return fmt.Errorf("%w: result missing", ErrInvalid)
	case len(a.GetIp()) != 0 && len(a.GetIp()) != 4 && len(a.GetIp()) != 16:
		return fmt.Errorf("%w: ip has %d bytes", ErrInvalid, len(a.GetIp()))
	}
	return nil
}

// SanitizeStrings replaces invalid UTF-8 in the event's strings by U+FFFD:
// a client's user agent or key (aria2 sends raw bytes) need not be valid
// UTF-8, and the event must still be encodable rather than lost. Producers
// and the simulator share it so replayed events equal live ones.
func SanitizeStrings(a *Announce) {
	fix := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	a.UserAgent = fix(a.UserAgent)
	a.Key = fix(a.Key)
	a.RefusalMessage = fix(a.RefusalMessage)
	for i, s := range a.ParamOrder {
		a.ParamOrder[i] = fix(s)
	}
	if a.Promotion != nil {
		a.Promotion.Name = fix(a.Promotion.Name)
	}
}

// EventProducer returns the producer id (the first 8 bytes of the event id)
// of an encoded event without decoding it, false when the message has no
// well-formed event id: a consumer that skips its own producer's events
// (the tracker following the topic) need not decode them.
func EventProducer(b []byte) (producer [8]byte, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return producer, false
		}
		b = b[n:]
		if num == 2 && typ == protowire.BytesType {
			id, n := protowire.ConsumeBytes(b)
			if n < 0 || len(id) != IDLen {
				return producer, false
			}
			return [8]byte(id[:8]), true
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return producer, false
		}
		b = b[n:]
	}
	return producer, false
}
