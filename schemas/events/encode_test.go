package events

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"
)

// The hand-written encoder writes exactly proto.Marshal's bytes (on view_test's
// random events: every field empty, small, huge or odd), and falls back to it
// for what it does not handle (invalid UTF-8: proto's error).
func TestAppendEncodeIsProtoMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		a := randomAnnounce(r)
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendAnnounce([]byte("prefix"), a)
		if !ok || !bytes.Equal(got[len("prefix"):], want) || string(got[:6]) != "prefix" {
			t.Fatalf("event %d: encoder wrote\n%x, proto.Marshal\n%x\n(%v)", i, got, want, a)
		}
		var back Announce
		if err := proto.Unmarshal(got[6:], &back); err != nil || !proto.Equal(&back, a) {
			t.Fatalf("event %d does not decode back: %v", i, err)
		}
	}
	bad := &Announce{SchemaVersion: 1, UserAgent: "\xff\xfe"}
	if _, ok := appendAnnounce(nil, bad); ok {
		t.Error("invalid UTF-8 encoded by hand")
	}
	if _, err := AppendEncode(nil, bad); err == nil {
		t.Error("AppendEncode accepted invalid UTF-8 (proto.Marshal refuses it)")
	}
	withUnknown := &Announce{SchemaVersion: 1}
	withUnknown.ProtoReflect().SetUnknown([]byte{0xf8, 0x02, 0x01}) // field 47, varint 1
	got, err := Encode(withUnknown)
	if want, _ := proto.Marshal(withUnknown); err != nil || !bytes.Equal(got, want) {
		t.Errorf("unknown fields: %x, want %x (%v)", got, want, err)
	}
}

func BenchmarkAppendEncode(b *testing.B) {
	a := &Announce{SchemaVersion: 1, EventId: make([]byte, 16), ProducerId: make([]byte, 8), Sequence: 123456,
		TimeUnixNano: 1_790_000_000_000_000_000, UserId: 4242, TorrentId: 777, InfoHash: make([]byte, 20), PeerId: []byte("-qB4650-abcdefghijkl"),
		Ip: []byte{192, 0, 2, 1}, Port: 51413, UserAgent: "qBittorrent/4.6.5", Key: "1A2B3C4D",
		ParamOrder: []string{"info_hash", "peer_id", "port", "uploaded", "downloaded", "left", "corrupt", "key", "event", "numwant", "compact", "no_peer_id", "supportcrypto", "redundant"},
		Numwant:    50, Uploaded: 123456789, Downloaded: 987654321, Left: 1 << 30, DeltaUploaded: 65536, CreditedUploaded: 65536,
		Promotion: &Promotion{Name: "none", DownloadPercent: 100, UploadPercent: 100}, SecondsSincePrevious: 1800,
		Seeders: 12, Leechers: 3, Result: Result_RESULT_ACCEPTED}
	buf := make([]byte, 0, 512)
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			buf, _ = AppendEncode(buf[:0], a)
		}
	})
	b.Run("proto", func(b *testing.B) {
		for b.Loop() {
			buf, _ = proto.MarshalOptions{Deterministic: true}.MarshalAppend(buf[:0], a)
		}
	})
}

// EventProducer reads the producer id of an encoded event as Decode would,
// and refuses what has no well-formed event id.
func TestEventProducer(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		a := randomAnnounce(r)
		b, err := proto.Marshal(a)
		if err != nil {
			continue // invalid UTF-8: never on the topic
		}
		p, ok := EventProducer(b)
		if want := len(a.EventId) == IDLen; ok != want || (ok && !bytes.Equal(p[:], a.EventId[:8])) {
			t.Fatalf("EventProducer(%x) = %x, %v; event id %x", b, p, ok, a.EventId)
		}
	}
	for _, b := range [][]byte{nil, {0x12}, {0x12, 0x10, 1, 2}, {0xff}} {
		if _, ok := EventProducer(b); ok {
			t.Errorf("EventProducer(%x) accepted a truncated message", b)
		}
	}
}
