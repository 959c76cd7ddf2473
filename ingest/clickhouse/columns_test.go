package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// TestStoredColumnsEqualTheEvents stores a batch the way the consumer hands
// it over (record values decoded into the loader's buffers, reused for a
// second batch) on the real ClickHouse and reads every column back.
func TestStoredColumnsEqualTheEvents(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := New(ch.Conn, ch.Database, nil)
	g := ingesttest.NewGen(11, 300, 100, time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC))
	r := rand.New(rand.NewPCG(1, 1))
	data := l.NewBatchData(0)
	want := map[int64][]any{}
	prev := int64(-1)
	for batch := range 2 {
		data.Reset()
		b := &consumer.Batch{Topic: "t", Partition: 0, Prev: prev, Data: data}
		for i := range 3000 {
			a := g.Next()
			if r.IntN(10) == 0 {
				a.UserAgent, a.Key, a.ParamOrder = fmt.Sprintf("client-%d/ü", r.IntN(50)), "", nil
				a.Promotion, a.Ip, a.InfoHash = nil, nil, []byte("short")
			}
			off := int64(batch*3000 + i)
			v, err := events.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			if err := data.Add(off, v); err != nil {
				t.Fatal(err)
			}
			want[off] = normalize(wantRow(0, off, a))
			b.Next = off + 1
		}
		if err := l.Store(ctx, b); err != nil {
			t.Fatal(err)
		}
		prev = b.Next
	}
	rs, err := ch.Conn.Query(ctx, `SELECT event_id, producer_id, sequence, kafka_partition, kafka_offset, schema_version,
		toUnixTimestamp(time), time_ms, user_id, torrent_id, info_hash, peer_id, ip, ip_family, network,
		port, user_agent, key, param_order, toInt8(event), numwant,
		uploaded, downloaded, left, corrupt, delta_uploaded, delta_downloaded, credited_uploaded, credited_downloaded,
		promotion, promo_download_percent, promo_upload_percent,
		seconds_since_previous, seedtime_seconds, snatch, counter_reset, dual_stack_duplicate,
		seeders, leechers, toInt8(result), refusal
		FROM announces ORDER BY kafka_offset`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	for rs.Next() {
		var (
			id, producer, hash, peer, ip, network, ua, key, po, promo, refusal       string
			seq, off, timeMS, user, torrent, up, down, left, corrupt, du, dd, cu, cd uint64
			part, tsec, ssp, seedtime, seeders, leechers                             uint32
			ver, family, snatch, reset, dual                                         uint8
			port, numwant, pd, pu                                                    uint16
			ev, res                                                                  int8
		)
		if err := rs.Scan(&id, &producer, &seq, &part, &off, &ver, &tsec, &timeMS, &user, &torrent, &hash, &peer,
			&ip, &family, &network, &port, &ua, &key, &po, &ev, &numwant, &up, &down, &left, &corrupt, &du, &dd,
			&cu, &cd, &promo, &pd, &pu, &ssp, &seedtime, &snatch, &reset, &dual, &seeders, &leechers, &res, &refusal); err != nil {
			t.Fatal(err)
		}
		got := normalize([]any{[]byte(id), []byte(producer), seq, part, off, ver, int64(tsec), timeMS, user, torrent,
			[]byte(hash), []byte(peer), []byte(ip), family, []byte(network), port, ua, []byte(key), po, ev, numwant,
			up, down, left, corrupt, du, dd, cu, cd, promo, pd, pu, ssp, seedtime, snatch, reset, dual,
			seeders, leechers, res, refusal})
		if w := want[int64(off)]; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("offset %d:\n got %v\nwant %v", off, got, w)
		}
		n++
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d rows stored, want %d", n, len(want))
	}
}
