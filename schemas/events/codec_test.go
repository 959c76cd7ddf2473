package events

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata golden messages")

// sampleV1 is the message stored in testdata/announce_v1.bin.
func sampleV1() *Announce {
	return &Announce{
		SchemaVersion:        1,
		EventId:              ID([8]byte{1, 2, 3, 4, 5, 6, 7, 8}, 42),
		ProducerId:           []byte{1, 2, 3, 4, 5, 6, 7, 8},
		Sequence:             42,
		TimeUnixNano:         1_764_000_000_123_456_789,
		UserId:               7,
		TorrentId:            9,
		InfoHash:             bytes.Repeat([]byte{0xab}, 20),
		PeerId:               []byte("-qB4650-abcdefghijkl"),
		Ip:                   []byte{192, 0, 2, 10},
		Port:                 51413,
		UserAgent:            "qBittorrent/4.6.5",
		Key:                  "1A2B3C4D",
		ParamOrder:           []string{"info_hash", "peer_id", "port", "uploaded", "downloaded", "left", "corrupt", "key", "event", "numwant", "compact", "no_peer_id", "supportcrypto", "redundant"},
		Event:                Event_EVENT_COMPLETED,
		Numwant:              200,
		Uploaded:             1 << 30,
		Downloaded:           3 << 30,
		Corrupt:              16384,
		DeltaUploaded:        1 << 20,
		DeltaDownloaded:      2 << 20,
		CreditedUploaded:     2 << 20,
		CreditedDownloaded:   0,
		Promotion:            &Promotion{Name: "free+2x", DownloadPercent: 0, UploadPercent: 200},
		SecondsSincePrevious: 1790,
		SeedtimeSeconds:      0,
		Snatch:               true,
		Seeders:              12,
		Leechers:             3,
		Result:               Result_RESULT_ACCEPTED,
	}
}

// TestGoldenV1StillDecodes decodes bytes written by the first schema version:
// a consumer must accept every older version.
func TestGoldenV1StillDecodes(t *testing.T) {
	path := filepath.Join("testdata", "announce_v1.bin")
	if *updateGolden {
		b, err := Encode(sampleV1())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("decode golden v1: %v", err)
	}
	if !proto.Equal(got, sampleV1()) {
		t.Fatalf("golden v1 decoded to\n%v\nwant\n%v", got, sampleV1())
	}
}

// TestNewerFieldsAreIgnored simulates a message from a future producer that
// carries a field this build does not know: it must still decode.
func TestNewerFieldsAreIgnored(t *testing.T) {
	b, err := Encode(sampleV1())
	if err != nil {
		t.Fatal(err)
	}
	b = protowire.AppendTag(b, 999, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("from the future"))
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("decode with unknown field: %v", err)
	}
	if got.GetUserId() != 7 || got.GetSequence() != 42 {
		t.Fatalf("fields lost: %v", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := sampleV1()
	cases := map[string]func(a *Announce){
		"no version":  func(a *Announce) { a.SchemaVersion = 0 },
		"short id":    func(a *Announce) { a.EventId = a.EventId[:8] },
		"no time":     func(a *Announce) { a.TimeUnixNano = 0 },
		"no result":   func(a *Announce) { a.Result = Result_RESULT_UNSPECIFIED },
		"bad ip size": func(a *Announce) { a.Ip = []byte{1, 2, 3} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			a := proto.Clone(good).(*Announce)
			mutate(a)
			b, err := Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(b); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode error = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := Decode([]byte{0xff, 0xff, 0xff}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("garbage: error = %v, want ErrInvalid", err)
	}
}

func TestIDIsProducerThenSequence(t *testing.T) {
	id := ID([8]byte{9, 9, 9, 9, 9, 9, 9, 9}, 0x0102)
	want := []byte{9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0, 1, 2}
	if !bytes.Equal(id, want) {
		t.Fatalf("ID = %x, want %x", id, want)
	}
}
