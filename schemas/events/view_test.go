package events

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// viewAnnounce turns a View back into a message, to compare with Decode.
func viewAnnounce(v *View) *Announce {
	a := &Announce{
		SchemaVersion: v.SchemaVersion, EventId: v.EventID, ProducerId: v.ProducerID, Sequence: v.Sequence,
		TimeUnixNano: v.TimeUnixNano, UserId: v.UserID, TorrentId: v.TorrentID, InfoHash: v.InfoHash,
		PeerId: v.PeerID, Ip: v.IP, Port: v.Port, UserAgent: string(v.UserAgent), Key: string(v.Key),
		Event: v.Event, Numwant: v.Numwant, Uploaded: v.Uploaded, Downloaded: v.Downloaded, Left: v.Left,
		Corrupt: v.Corrupt, DeltaUploaded: v.DeltaUploaded, DeltaDownloaded: v.DeltaDownloaded,
		CreditedUploaded: v.CreditedUploaded, CreditedDownloaded: v.CreditedDownloaded,
		SecondsSincePrevious: v.SecondsSincePrevious, SeedtimeSeconds: v.SeedtimeSeconds, Snatch: v.Snatch,
		CounterReset: v.CounterReset, DualStackDuplicate: v.DualStackDuplicate, Seeders: v.Seeders,
		Leechers: v.Leechers, Result: v.Result, Refusal: v.Refusal, RefusalMessage: string(v.RefusalMessage),
	}
	for _, p := range v.ParamOrder {
		a.ParamOrder = append(a.ParamOrder, string(p))
	}
	if len(v.PromotionName) > 0 || v.PromoDownloadPercent != 0 || v.PromoUploadPercent != 0 {
		a.Promotion = &Promotion{Name: string(v.PromotionName), DownloadPercent: v.PromoDownloadPercent, UploadPercent: v.PromoUploadPercent}
	}
	return a
}

// agree fails t unless the fast parser and Decode both accept b with equal
// fields, or both reject it, and DecodeView returns Decode's error.
func agree(t testing.TB, b []byte, v *View) {
	t.Helper()
	want, werr := Decode(b)
	ferr := v.decode(b)
	if (werr == nil) != (ferr == nil) {
		t.Fatalf("message %x: Decode error %v, fast parser error %v", b, werr, ferr)
	}
	if werr != nil {
		if err := DecodeView(b, v); err == nil || err.Error() != werr.Error() {
			t.Fatalf("message %x: DecodeView error %v, want Decode's %v", b, err, werr)
		}
		return
	}
	want.ProtoReflect().SetUnknown(nil) // a View drops unknown fields
	if want.Promotion != nil {
		want.Promotion.ProtoReflect().SetUnknown(nil)
	}
	if want.Promotion != nil && proto.Equal(want.Promotion, &Promotion{}) {
		want.Promotion = nil
	}
	if got := viewAnnounce(v); !proto.Equal(got, want) {
		t.Fatalf("message %x:\nview   %v\nDecode %v", b, got, want)
	}
	if err := DecodeView(b, v); err != nil {
		t.Fatalf("DecodeView: %v", err)
	}
}

func TestViewGoldenV1(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "announce_v1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var v View
	agree(t, b, &v)
	if !proto.Equal(viewAnnounce(&v), sampleV1()) {
		t.Fatalf("golden v1 view = %v", viewAnnounce(&v))
	}
}

// randomAnnounce sets each field with probability 3/4 to a random value,
// including the edge cases (empty, huge, wrong-length, unknown enums).
func randomAnnounce(r *rand.Rand) *Announce {
	some := func() bool { return r.IntN(4) != 0 }
	u64 := func() uint64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return r.Uint64()
		}
		return r.Uint64N(1 << 20)
	}
	bs := func(sizes ...int) []byte {
		b := make([]byte, sizes[r.IntN(len(sizes))])
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	str := func() string {
		return []string{"", "qBittorrent/4.6.5", "Transmission/4.0.6", "ключ", "a,b", "x"}[r.IntN(6)]
	}
	a := &Announce{}
	if some() {
		a.SchemaVersion = uint32(u64())
	}
	if some() {
		a.EventId = bs(16, 16, 16, 8, 0, 17)
	}
	if some() {
		a.ProducerId = bs(8, 8, 3)
	}
	a.Sequence, a.UserId, a.TorrentId = u64(), u64(), u64()
	if some() {
		a.TimeUnixNano = int64(r.Uint64()) >> r.IntN(3)
	}
	if some() {
		a.InfoHash, a.PeerId = bs(20, 20, 5, 33), bs(20, 20, 0, 30)
	}
	if some() {
		a.Ip = bs(4, 16, 16, 3, 0)
	}
	a.Port, a.Numwant = uint32(u64()), uint32(u64())
	a.UserAgent, a.Key, a.RefusalMessage = str(), str(), str()
	for range r.IntN(15) {
		a.ParamOrder = append(a.ParamOrder, str())
	}
	a.Event, a.Result, a.Refusal = Event(r.IntN(7)-1), Result(r.IntN(4)), Refusal(r.IntN(14))
	a.Uploaded, a.Downloaded, a.Left, a.Corrupt = u64(), u64(), u64(), u64()
	a.DeltaUploaded, a.DeltaDownloaded, a.CreditedUploaded, a.CreditedDownloaded = u64(), u64(), u64(), u64()
	if some() {
		a.Promotion = &Promotion{Name: str(), DownloadPercent: uint32(u64()), UploadPercent: uint32(u64())}
	}
	a.SecondsSincePrevious, a.SeedtimeSeconds = uint32(u64()), uint32(u64())
	a.Snatch, a.CounterReset, a.DualStackDuplicate = some(), some(), some()
	a.Seeders, a.Leechers = uint32(u64()), uint32(u64())
	return a
}

// mutate damages or extends a valid message the ways a broken or newer
// producer could: a cut, a flipped byte, an unknown field, a known field
// with another wire type, a repeated field or promotion, invalid UTF-8.
func mutate(r *rand.Rand, b []byte) []byte {
	b = append([]byte(nil), b...)
	switch r.IntN(9) {
	case 0:
		return b[:r.IntN(len(b)+1)]
	case 1:
		if len(b) > 0 {
			b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		}
	case 2:
		num := protowire.Number(36 + r.IntN(1000))
		switch r.IntN(5) {
		case 0:
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, r.Uint64())
		case 1:
			b = protowire.AppendTag(b, num, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, r.Uint32())
		case 2:
			b = protowire.AppendTag(b, num, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, r.Uint64())
		case 3:
			b = protowire.AppendTag(b, num, protowire.StartGroupType)
			b = protowire.AppendTag(b, 1, protowire.VarintType)
			b = protowire.AppendVarint(b, 5)
			b = protowire.AppendTag(b, num, protowire.EndGroupType)
		default:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, []byte("future"))
		}
	case 3: // a known field number with the other wire type
		num := protowire.Number(1 + r.IntN(35))
		if r.IntN(2) == 0 {
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, r.Uint64N(300))
		} else {
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, make([]byte, r.IntN(20)))
		}
	case 4: // a second promotion: merged
		var p []byte
		if r.IntN(2) == 0 {
			p = protowire.AppendTag(p, 3, protowire.VarintType)
			p = protowire.AppendVarint(p, 300)
		}
		if r.IntN(2) == 0 {
			p = protowire.AppendTag(p, 1, protowire.BytesType)
			p = protowire.AppendString(p, "late")
		}
		if r.IntN(4) == 0 {
			p = protowire.AppendTag(p, 9, protowire.Fixed32Type)
			p = protowire.AppendFixed32(p, 1)
		}
		b = protowire.AppendTag(b, 25, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	case 5: // invalid UTF-8 in a string field
		num := []protowire.Number{12, 13, 14, 35}[r.IntN(4)]
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendBytes(b, []byte{'a', 0xff, 0xfe})
	case 6: // invalid field number, stray end group, reserved wire type
		switch r.IntN(4) {
		case 0:
			b = protowire.AppendVarint(b, 0<<3|uint64(protowire.VarintType))
		case 1:
			b = protowire.AppendVarint(b, uint64(protowire.MaxValidNumber+1)<<3)
		case 2:
			b = protowire.AppendTag(b, 40, protowire.EndGroupType)
		default:
			b = protowire.AppendVarint(b, 41<<3|6)
		}
		b = protowire.AppendVarint(b, 1)
	case 7: // an overlong varint
		b = protowire.AppendTag(b, protowire.Number(1+r.IntN(35)), protowire.VarintType)
		b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, byte(r.IntN(3)))
	default: // a repeated scalar: the last one wins
		b = protowire.AppendTag(b, 6, protowire.VarintType)
		b = protowire.AppendVarint(b, r.Uint64())
	}
	return b
}

// TestViewAgreesWithDecode compares the two decoders on random messages,
// valid and invalid, field by field.
func TestViewAgreesWithDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var v View
	accepted := 0
	for range 40_000 {
		b, err := Encode(randomAnnounce(r))
		if err != nil {
			t.Fatal(err)
		}
		for range r.IntN(3) {
			b = mutate(r, b)
		}
		if _, err := Decode(b); err == nil {
			accepted++
		}
		agree(t, b, &v)
	}
	if accepted < 1000 || accepted > 39_000 {
		t.Fatalf("%d of 40,000 random messages valid: the test covers too little of one side", accepted)
	}
}

func TestDecodeViewDoesNotAllocate(t *testing.T) {
	b, err := Encode(sampleV1())
	if err != nil {
		t.Fatal(err)
	}
	var v View
	if err := DecodeView(b, &v); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = DecodeView(b, &v) }); n != 0 {
		t.Fatalf("DecodeView allocates %v times per message", n)
	}
}

func FuzzDecodeView(f *testing.F) {
	b, err := Encode(sampleV1())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0xff, 0xff, 0xff})
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		m, _ := Encode(randomAnnounce(r))
		f.Add(mutate(r, m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v View
		agree(t, b, &v)
	})
}

func BenchmarkDecode(b *testing.B) {
	msg, err := Encode(sampleV1())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DecodeInto", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := DecodeInto(msg, &Announce{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeView", func(b *testing.B) {
		b.ReportAllocs()
		var v View
		for range b.N {
			if err := DecodeView(msg, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
