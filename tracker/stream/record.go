package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"google.golang.org/protobuf/proto"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Spool record framing (see the package documentation).
const (
	recordHeader = 8          // length + crc
	keyLen       = 8          // user id, big-endian
	maxBody      = 16 << 20   // larger lengths are corruption
	segmentMagic = "RGSPOOL1" // first bytes of every segment file
	magicLen     = 8          // len(segmentMagic)
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt marks a record that fails its length or CRC check.
var errCorrupt = errors.New("corrupt spool record")

// appendKey appends the Kafka key of a user: 8 bytes big-endian.
func appendKey(b []byte, userID uint64) []byte {
	return binary.BigEndian.AppendUint64(b, userID)
}

// encodeEvent appends the encoded event to b. proto3 strings must be valid
// UTF-8 and a client's user agent or key need not be: then a copy of the
// event with the invalid bytes replaced by U+FFFD is encoded instead, so the
// event is kept (ev itself is not modified: other goroutines may read it).
func encodeEvent(b []byte, ev *events.Announce) ([]byte, error) {
	out, err := events.AppendEncode(b, ev)
	if err == nil {
		return out, nil
	}
	fixed := proto.Clone(ev).(*events.Announce)
	events.SanitizeStrings(fixed)
	out, err2 := events.AppendEncode(b, fixed)
	if err2 != nil {
		return b, fmt.Errorf("%w (also after replacing invalid UTF-8: %v)", err, err2)
	}
	return out, nil
}

// appendRecord appends one framed spool record holding ev to b.
func appendRecord(b []byte, ev *events.Announce) ([]byte, error) {
	start := len(b)
	b = append(b, make([]byte, recordHeader)...)
	b = appendKey(b, ev.GetUserId())
	b, err := encodeEvent(b, ev)
	if err != nil {
		return b[:start], err
	}
	body := b[start+recordHeader:]
	binary.BigEndian.PutUint32(b[start:], uint32(len(body)))
	binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(body, crcTable))
	return b, nil
}

// record is a decoded spool record; key and value alias the read buffer.
type record struct {
	key, value []byte
}

// parseRecord decodes the record at the start of b. It returns the record
// and its framed size; n == 0 with a nil error means b holds only part of
// a record.
func parseRecord(b []byte) (r record, n int, err error) {
	if len(b) < recordHeader {
		return r, 0, nil
	}
	size := binary.BigEndian.Uint32(b)
	if size < keyLen || size > maxBody {
		return r, 0, fmt.Errorf("%w: length %d", errCorrupt, size)
	}
	n = recordHeader + int(size)
	if len(b) < n {
		return r, 0, nil
	}
	body := b[recordHeader:n]
	if got, want := crc32.Checksum(body, crcTable), binary.BigEndian.Uint32(b[4:]); got != want {
		return r, 0, fmt.Errorf("%w: crc %08x, want %08x", errCorrupt, got, want)
	}
	return record{key: body[:keyLen], value: body[keyLen:]}, n, nil
}

var _ = [1]struct{}{}[len(segmentMagic)-magicLen] // magicLen == len(segmentMagic)
