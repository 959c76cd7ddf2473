package clickhouse

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func TestNetwork(t *testing.T) {
	v4, fam4 := mappedIP([]byte{192, 168, 7, 42})
	if fam4 != 4 || !bytes.Equal(Network(v4, fam4), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 7, 0}) {
		t.Errorf("IPv4 /24 of 192.168.7.42 = %x (family %d)", Network(v4, fam4), fam4)
	}
	ip6 := []byte{0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	v6, fam6 := mappedIP(ip6)
	if fam6 != 6 || !bytes.Equal(Network(v6, fam6), append(ip6[:8:8], make([]byte, 8)...)) {
		t.Errorf("IPv6 /64 = %x (family %d)", Network(v6, fam6), fam6)
	}
	mapped, famM := mappedIP(v4)
	if famM != 4 || !bytes.Equal(mapped, v4) {
		t.Errorf("an IPv4-mapped 16-byte address is family %d, want 4", famM)
	}
	if _, fam := mappedIP([]byte{1, 2, 3}); fam != 0 {
		t.Errorf("3-byte ip family %d, want 0", fam)
	}
}

func TestRowsNormaliseMalformedFields(t *testing.T) {
	r := &rows{}
	r.add(3, consumer.Event{Offset: 9, A: &events.Announce{
		EventId: make([]byte, 16), InfoHash: []byte("short"), PeerId: bytes.Repeat([]byte("p"), 30),
		Event: events.Event(42), Result: events.Result(7), Port: 70000, TimeUnixNano: 1,
	}})
	if len(r.infoHash[0]) != 20 || len(r.peerID[0]) != 20 || len(r.producerID[0]) != 8 {
		t.Errorf("fixed-length fields not normalised: %d %d %d", len(r.infoHash[0]), len(r.peerID[0]), len(r.producerID[0]))
	}
	if r.event[0] != 0 || r.result[0] != 2 || r.port[0] != 65535 || r.kafkaPartition[0] != 3 || r.kafkaOffset[0] != 9 {
		t.Errorf("event %d result %d port %d partition %d offset %d", r.event[0], r.result[0], r.port[0], r.kafkaPartition[0], r.kafkaOffset[0])
	}
	list := insertAnnouncesSQL[strings.Index(insertAnnouncesSQL, "(")+1 : strings.LastIndex(insertAnnouncesSQL, ")")]
	if got, want := len(r.columns()), len(strings.Split(list, ",")); got != want {
		t.Errorf("%d column slices, the INSERT lists %d columns", got, want)
	}
}

func TestByMonthSplitsAtMonthBoundaries(t *testing.T) {
	at := func(s string) consumer.Event {
		tm, _ := time.Parse(time.RFC3339, s)
		return consumer.Event{A: &events.Announce{EventId: make([]byte, 16), TimeUnixNano: tm.UnixNano()}}
	}
	ms := byMonth(0, []consumer.Event{at("2026-03-31T23:59:59Z"), at("2026-04-01T00:00:00Z"), at("2026-03-01T00:00:00Z")})
	if len(ms) != 2 || ms[0].month != 202603 || ms[0].rows.len() != 2 || ms[1].month != 202604 || ms[1].rows.len() != 1 {
		t.Errorf("byMonth: %+v", ms)
	}
}
