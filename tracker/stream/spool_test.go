package stream

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// frame builds a raw spool record.
func frame(key uint64, value []byte) []byte {
	body := binary.BigEndian.AppendUint64(nil, key)
	body = append(body, value...)
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(body, crcTable))
	return append(b, body...)
}

func openTestSpool(t *testing.T, dir string, segBytes int64) *spool {
	t.Helper()
	s, err := openSpool(dir, segBytes, 1<<30, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

// drain reads and acknowledges everything, returning the keys in order.
func drain(t *testing.T, s *spool, batch int) []uint64 {
	t.Helper()
	r := spoolReader{s: s, log: testLogger(t)}
	defer r.close()
	var keys []uint64
	pos := s.ack
	for {
		recs, next, err := r.next(pos, batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return keys
		}
		for _, rec := range recs {
			keys = append(keys, binary.BigEndian.Uint64(rec.key))
		}
		s.ackTo(next, int64(len(recs)))
		pos = next
	}
}

func TestSpoolRotatesReadsInOrderAndDeletesAckedSegments(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, 1000) // a few records per segment
	for i := range 100 {
		if err := s.append(frame(uint64(i), bytes.Repeat([]byte{'v'}, 100)), 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(segments(t, dir)); n < 10 {
		t.Fatalf("%d segments, want rotation at 1000 bytes", n)
	}
	if recs, b := s.depth(); recs != 100 || b != 100*(8+8+100) {
		t.Fatalf("depth %d records %d bytes", recs, b)
	}
	keys := drain(t, s, 7)
	for i, k := range keys {
		if k != uint64(i) {
			t.Fatalf("record %d has key %d", i, k)
		}
	}
	if len(keys) != 100 {
		t.Fatalf("read %d records, want 100", len(keys))
	}
	if recs, b := s.depth(); recs != 0 || b != 0 {
		t.Fatalf("depth after acking everything: %d records %d bytes", recs, b)
	}
	if n := len(segments(t, dir)); n != 1 {
		t.Fatalf("%d segments after acking everything, want only the one being appended to", n)
	}
	if !s.drained() || len(segments(t, dir)) != 0 {
		t.Fatal("drained spool still has segments")
	}
	// Appends after a drain start a new segment and are read.
	if err := s.append(frame(7, []byte("x")), 1); err != nil {
		t.Fatal(err)
	}
	if keys := drain(t, s, 10); len(keys) != 1 || keys[0] != 7 {
		t.Fatalf("after a drain read %v", keys)
	}
}

func TestSpoolReadsRecordsLargerThanAReadChunk(t *testing.T) {
	s := openTestSpool(t, t.TempDir(), 64<<20)
	big := bytes.Repeat([]byte{'b'}, readChunk+1000)
	for i := range 3 {
		if err := s.append(frame(uint64(i), big), 1); err != nil {
			t.Fatal(err)
		}
	}
	if keys := drain(t, s, 100); len(keys) != 3 {
		t.Fatalf("read %v, want 3 records", keys)
	}
}

func TestSpoolRecoveryTruncatesTornAndCorruptTails(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"torn header": func(b []byte) []byte { return append(b, 0, 0, 0) },
		"torn body":   func(b []byte) []byte { return append(b, frame(99, []byte("lost"))[:15]...) },
		"bad crc": func(b []byte) []byte {
			f := frame(99, []byte("flipped"))
			f[len(f)-1] ^= 0xff
			return append(b, f...)
		},
		"garbage length": func(b []byte) []byte { return append(b, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := openSpool(dir, 1<<20, 1<<30, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if err := s.append(frame(uint64(i), []byte("value")), 1); err != nil {
					t.Fatal(err)
				}
			}
			s.close()
			seg := segments(t, dir)[0]
			good, _ := os.ReadFile(seg)
			if err := os.WriteFile(seg, damage(bytes.Clone(good)), 0o640); err != nil {
				t.Fatal(err)
			}
			s2 := openTestSpool(t, dir, 1<<20)
			if s2.recovered.records != 5 || s2.recovered.tornBytes == 0 {
				t.Fatalf("recovered %+v, want 5 records and a truncated tail", s2.recovered)
			}
			if after, _ := os.ReadFile(seg); !bytes.Equal(after, good) {
				t.Fatalf("segment is %d bytes after recovery, want the %d intact bytes", len(after), len(good))
			}
			if keys := drain(t, s2, 100); len(keys) != 5 {
				t.Fatalf("replayed %v, want the 5 intact records", keys)
			}
		})
	}
}

func TestSpoolRecoveryEdgeCases(t *testing.T) {
	dir := t.TempDir()
	// A crash right after creating a segment leaves it without records.
	if err := os.WriteFile(dir+"/0000000000000003.spool", []byte("RGSP"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/0000000000000004.spool", []byte(segmentMagic), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/notes.txt", []byte("not a segment"), 0o640); err != nil {
		t.Fatal(err)
	}
	s := openTestSpool(t, dir, 1<<20)
	if len(s.segs) != 0 || len(segments(t, dir)) != 0 {
		t.Fatalf("empty segments kept: %v", segments(t, dir))
	}
	if err := s.append(frame(1, nil), 1); err != nil {
		t.Fatal(err)
	}
	if s.segs[0].id != 5 {
		t.Fatalf("new segment id %d, want 5 (after the ones found)", s.segs[0].id)
	}
	s.close()

	// A file that is not a spool segment is an error, not silently replayed.
	bad := t.TempDir()
	if err := os.WriteFile(bad+"/0000000000000001.spool", []byte("this is not a spool file"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := openSpool(bad, 1<<20, 1<<30, testLogger(t)); err == nil || !strings.Contains(err.Error(), "bad magic") {
		t.Fatalf("foreign file: err %v, want bad magic", err)
	}
}

func TestSpoolRefusesBeyondMaxBytes(t *testing.T) {
	s, err := openSpool(t.TempDir(), 1<<20, 100, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	f := frame(1, bytes.Repeat([]byte{'x'}, 40)) // 56 bytes
	if err := s.append(f, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.append(f, 1); err != errSpoolFull {
		t.Fatalf("append beyond the max: %v, want errSpoolFull", err)
	}
}

func TestRecordRoundTripAndCorruption(t *testing.T) {
	ev := event(42)
	b, err := appendRecord([]byte("prefix"), ev)
	if err != nil {
		t.Fatal(err)
	}
	rec, n, err := parseRecord(b[6:])
	if err != nil || n != len(b)-6 {
		t.Fatalf("parse: n=%d err=%v", n, err)
	}
	if binary.BigEndian.Uint64(rec.key) != ev.GetUserId() {
		t.Fatalf("key %x, want user %d", rec.key, ev.GetUserId())
	}
	got, err := events.Decode(rec.value)
	if err != nil || got.GetSequence() != 42 {
		t.Fatalf("decoded %v, %v", got, err)
	}
	if _, n, err := parseRecord(b[6 : len(b)-1]); n != 0 || err != nil {
		t.Fatalf("partial record: n=%d err=%v, want 0, nil", n, err)
	}
	b[len(b)-1] ^= 1
	if _, _, err := parseRecord(b[6:]); err == nil {
		t.Fatal("flipped bit not detected")
	}
}
