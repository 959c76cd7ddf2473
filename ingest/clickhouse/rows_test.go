package clickhouse

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
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

// addAnnounce decodes a through the loader's path into d.
func addAnnounce(t *testing.T, d *decoded, offset int64, a *events.Announce) {
	t.Helper()
	b, err := events.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(offset, b); err != nil {
		t.Fatal(err)
	}
}

// row returns row i of r as the values appended to ClickHouse, in INSERT order.
func row(r *rows, i int) []any {
	var out []any
	for _, c := range r.columns() {
		out = append(out, reflect.ValueOf(c.values()).Index(i).Interface())
	}
	return out
}

// wantRow is the row of an event, computed directly from the message.
func wantRow(partition int32, offset int64, a *events.Announce) []any {
	fixed := func(b []byte, n int) []byte {
		out := make([]byte, n)
		copy(out, b)
		return out
	}
	ip, family := mappedIP(a.GetIp())
	return []any{
		a.GetEventId(), fixed(a.GetProducerId(), 8), a.GetSequence(), uint32(partition), uint64(offset),
		uint8(min(a.GetSchemaVersion(), 255)), a.GetTimeUnixNano() / 1e9, uint64(a.GetTimeUnixNano() / 1e6),
		a.GetUserId(), a.GetTorrentId(), fixed(a.GetInfoHash(), 20), fixed(a.GetPeerId(), 20), ip, family,
		Network(ip, family), u16(a.GetPort()), a.GetUserAgent(), []byte(a.GetKey()),
		strings.Join(a.GetParamOrder(), ","), eventCode(a.GetEvent()), u16(a.GetNumwant()),
		a.GetUploaded(), a.GetDownloaded(), a.GetLeft(), a.GetCorrupt(),
		a.GetDeltaUploaded(), a.GetDeltaDownloaded(), a.GetCreditedUploaded(), a.GetCreditedDownloaded(),
		a.GetPromotion().GetName(), u16(a.GetPromotion().GetDownloadPercent()), u16(a.GetPromotion().GetUploadPercent()),
		a.GetSecondsSincePrevious(), a.GetSeedtimeSeconds(), b2u(a.GetSnatch()), b2u(a.GetCounterReset()),
		b2u(a.GetDualStackDuplicate()), a.GetSeeders(), a.GetLeechers(), resultCode(a.GetResult()),
		refusalName(a.GetRefusal()),
	}
}

// normalize makes nil and empty byte slices compare equal.
func normalize(vs []any) []any {
	for i, v := range vs {
		if b, ok := v.([]byte); ok && len(b) == 0 {
			vs[i] = []byte{}
		}
	}
	return vs
}

func TestRowsEqualTheEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	g := ingesttest.NewGen(3, 100, 50, time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC))
	d := newDecoded(5)
	var want [][]any
	for round := range 3 { // the buffers are reused from batch to batch
		d.Reset()
		want = want[:0]
		for i := range 2000 {
			a := g.Next()
			switch r.IntN(20) { // the malformed and unusual fields of refused or future announces
			case 0:
				a.InfoHash, a.PeerId, a.ProducerId = []byte("short"), bytes.Repeat([]byte("p"), 30), nil
			case 1:
				a.Event, a.Result, a.Refusal, a.Port, a.Numwant = events.Event(42), events.Result(7), events.Refusal(99), 70000, 1<<20
			case 2:
				a.Ip, a.Promotion, a.ParamOrder, a.UserAgent = nil, nil, nil, ""
			case 3:
				a.Ip = append(make([]byte, 10), 0xff, 0xff, 1, 2, 3, 4)
				a.SchemaVersion = 300
			}
			off := int64(round*10_000 + i)
			addAnnounce(t, d, off, a)
			want = append(want, wantRow(5, off, a))
		}
		if d.Len() != len(want) {
			t.Fatalf("round %d: %d rows, want %d", round, d.Len(), len(want))
		}
		for i, w := range want {
			if got := row(d.rows, i); !reflect.DeepEqual(normalize(got), normalize(w)) {
				t.Fatalf("round %d row %d:\n got %v\nwant %v", round, i, got, w)
			}
		}
	}
	list := insertAnnouncesSQL[strings.Index(insertAnnouncesSQL, "(")+1 : strings.LastIndex(insertAnnouncesSQL, ")")]
	if got, want := len(d.rows.columns()), len(strings.Split(list, ",")); got != want {
		t.Errorf("%d columns, the INSERT lists %d columns", got, want)
	}
}

func TestAddRejectsWhatDecodeRejects(t *testing.T) {
	d := newDecoded(0)
	err := d.Add(1, []byte{0xff, 0xff, 0xff})
	_, want := events.Decode([]byte{0xff, 0xff, 0xff})
	if err == nil || err.Error() != want.Error() || d.Len() != 0 {
		t.Fatalf("Add(garbage) = %v with %d rows; want Decode's error %v and no row", err, d.Len(), want)
	}
}

func TestByMonthSplitsAtMonthBoundariesAndDropsDuplicates(t *testing.T) {
	d := newDecoded(0)
	at := func(seq uint64, s string) *events.Announce {
		tm, _ := time.Parse(time.RFC3339, s)
		return &events.Announce{SchemaVersion: 1, EventId: events.ID([8]byte{1}, seq), TimeUnixNano: tm.UnixNano(),
			Result: events.Result_RESULT_ACCEPTED, UserId: seq}
	}
	for i, a := range []*events.Announce{at(1, "2026-03-31T23:59:59Z"), at(2, "2026-04-01T00:00:00Z"),
		at(1, "2026-03-31T23:59:59Z"), at(3, "2026-03-01T00:00:00Z")} {
		addAnnounce(t, d, int64(i), a)
	}
	d.uniq()
	ms := d.byMonth(d.keep)
	if len(ms) != 2 || ms[0].month != 202603 || ms[0].rows.len() != 2 || ms[1].month != 202604 || ms[1].rows.len() != 1 {
		t.Fatalf("byMonth: %+v", ms)
	}
	if got := ms[0].rows.userID.v; !reflect.DeepEqual(got, []uint64{1, 3}) || ms[1].rows.userID.v[0] != 2 {
		t.Errorf("March users %v, April %v; want [1 3] and 2 (batch order, duplicate dropped)", got, ms[1].rows.userID.v)
	}
	if d.rows.len() != 4 {
		t.Errorf("byMonth changed the decoded rows (a retried Store needs them): %d rows", d.rows.len())
	}
	d2 := newDecoded(0)
	addAnnounce(t, d2, 0, at(1, "2026-03-31T23:59:59Z"))
	addAnnounce(t, d2, 1, at(2, "2026-03-01T00:00:00Z"))
	d2.uniq()
	if ms := d2.byMonth(d2.keep); len(ms) != 1 || ms[0].rows != d2.rows {
		t.Errorf("a one-month batch without duplicates is copied: %+v", ms)
	}
}

func TestDecodedOfEvents(t *testing.T) {
	a := &events.Announce{SchemaVersion: 1, EventId: events.ID([8]byte{2}, 9), TimeUnixNano: 5e9, Result: events.Result_RESULT_REFUSED}
	d, err := decodedOf(&consumer.Batch{Partition: 2, Events: []consumer.Event{{Offset: 7, A: a}}})
	if err != nil || d.Len() != 1 || d.rows.kafkaOffset.v[0] != 7 || d.rows.kafkaPartition.v[0] != 2 {
		t.Fatalf("decodedOf(events) = %+v, %v", d, err)
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	g := ingesttest.NewGen(4, 10, 10, time.Now())
	var msgs [][]byte
	for range 100 {
		b, err := events.Encode(g.Next())
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	d := newDecoded(0)
	fill := func() {
		d.Reset()
		for i, m := range msgs {
			if err := d.Add(int64(i), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	fill()
	if n := testing.AllocsPerRun(20, fill); n != 0 {
		t.Errorf("a reused batch allocates %v times per 100 events", n)
	}
}

// appendOnly is a prepared INSERT that does not expose its columns: rows
// are appended row by row through clickhouse-go's Append.
type appendOnly struct{ b fakeBatch }

func (a appendOnly) Column(i int) driver.BatchColumn { return a.b.Column(i) }

// TestColumnsFilledFromWireEqualAppended fills clickhouse-go's columns both
// ways (decoded from the native format, appended through Append) and
// compares what they send, byte for byte.
func TestColumnsFilledFromWireEqualAppended(t *testing.T) {
	types := announceColumns(t)
	for _, agents := range []int{3, 300, 70_000} { // UInt8, UInt16 and UInt32 dictionary keys
		g := ingesttest.NewGen(5, 500, 100, time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC))
		d := newDecoded(1)
		for i := range 70_000 {
			a := g.Next()
			a.UserAgent = fmt.Sprintf("agent-%d", i%agents)
			if i%7 == 0 {
				a.UserAgent, a.Key, a.ParamOrder, a.Promotion = "", "", nil, nil
			}
			addAnnounce(t, d, int64(i), a)
		}
		viaAppend, viaWire := newBatch(t, types), newBatch(t, types)
		if err := d.rows.appendTo(appendOnly{viaAppend}); err != nil {
			t.Fatal(err)
		}
		if err := d.rows.appendTo(viaWire); err != nil {
			t.Fatal(err)
		}
		for i := range types {
			var a, w proto.Buffer
			viaAppend[i:i+1].encode(t, &a)
			viaWire[i:i+1].encode(t, &w)
			if !bytes.Equal(a.Buf, w.Buf) {
				t.Fatalf("%d user agents: column %s sends %d bytes filled from the wire, %d appended", agents, types[i][0], len(w.Buf), len(a.Buf))
			}
		}
	}
}
