package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/importer/announces"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// import announces end to end on the real engines: members and torrents in
// Postgres, a JSON-lines log and a gzipped combined log replayed into a
// Kafka topic; the events on the topic carry the members' ids, the credited
// deltas and the refusals; a second import of the same files writes the
// same event ids (deduplicated downstream).
func TestImportAnnouncesToKafka(t *testing.T) {
	pg, k := testenv.Postgres(t), testenv.Kafka(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const pkA, pkB, pkX = "AAAAbbbbCCCCdddd0000111122223333", "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", "ffffffffffffffffffffffffffffffff"
	ih1, ih2 := strings.Repeat("\x01", 19)+"\xfe", strings.Repeat("\x02", 20)
	var idA, idB, t1, t2 uint64
	for _, q := range []struct {
		sql  string
		args []any
		dst  *uint64
	}{
		{"INSERT INTO users (name, passkey) VALUES ('alice', $1) RETURNING id", []any{pkA}, &idA},
		{"INSERT INTO users (name, passkey) VALUES ('bob', $1) RETURNING id", []any{pkB}, &idB},
		{"INSERT INTO torrents (info_hash, name, size) VALUES ($1, 'one', 1000000000) RETURNING id", []any{[]byte(ih1)}, &t1},
		{"INSERT INTO torrents (info_hash, name, size, promotion, promo_download_percent) VALUES ($1, 'two', 2000000000, 'free', 0) RETURNING id", []any{[]byte(ih2)}, &t2},
	} {
		if err := pg.Pool.QueryRow(ctx, q.sql, q.args...).Scan(q.dst); err != nil {
			t.Fatal(err)
		}
	}
	target := func(pk, ih, peer string, up, down, left uint64, event string) string {
		s := fmt.Sprintf("/%s/announce?info_hash=%s&peer_id=%s&port=51413&uploaded=%d&downloaded=%d&left=%d&numwant=80&key=1a2b3c4&compact=1&supportcrypto=1",
			pk, url.QueryEscape(ih), url.QueryEscape(peer), up, down, left)
		if event != "" {
			s += "&event=" + event
		}
		return s
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	// Alice seeds torrent 1 (JSON lines); bob leeches it and torrent 2 (combined, gzip).
	jl := fmt.Sprintf(`{"ts":%d,"ip":"192.0.2.1","path":%q,"ua":"Transmission/4.0.5"}
{"ts":%d,"ip":"192.0.2.1","path":%q,"ua":"Transmission/4.0.5"}
{"ts":%d,"ip":"198.51.100.7","path":%q,"ua":"Transmission/4.0.5"}
not a request
`, start.UnixMilli(), target(pkA, ih1, "-TR4050-aaaaaaaaaaaa", 0, 0, 0, "started"),
		start.Add(20*time.Minute).UnixMilli(), target(pkA, ih1, "-TR4050-aaaaaaaaaaaa", 300000000, 0, 0, ""),
		start.Add(21*time.Minute).UnixMilli(), target(pkX, ih1, "-TR4050-xxxxxxxxxxxx", 0, 0, 0, "started"))
	clf := func(at time.Time, tg string) string {
		return fmt.Sprintf(`2001:db8::b - - [%s] "GET %s HTTP/1.1" 200 120 "-" "Transmission/4.0.5"`+"\n", at.Format("02/Jan/2006:15:04:05 -0700"), tg)
	}
	comb := clf(start.Add(time.Minute), target(pkB, ih1, "-TR4050-bbbbbbbbbbbb", 0, 0, 1000000000, "started")) +
		clf(start.Add(21*time.Minute), target(pkB, ih1, "-TR4050-bbbbbbbbbbbb", 0, 300000000, 700000000, "")) +
		clf(start.Add(22*time.Minute), target(pkB, ih2, "-TR4050-cccccccccccc", 0, 0, 2000000000, "started")) +
		clf(start.Add(42*time.Minute), target(pkB, ih2, "-TR4050-cccccccccccc", 0, 5000, 1999995000, "")) +
		`2001:db8::b - - [01/Oct/2026:00:43:00 +0000] "GET /` + pkB + `/scrape?info_hash=x HTTP/1.1" 200 50 "-" "Transmission/4.0.5"` + "\n"
	jlFile, combFile := filepath.Join(dir, "tracker.jsonl"), filepath.Join(dir, "access.log.1")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(comb))
	zw.Close()
	if os.WriteFile(jlFile, []byte(jl), 0o644) != nil || os.WriteFile(combFile, z.Bytes(), 0o644) != nil {
		t.Fatal("write logs")
	}

	importJSON := func() announces.Result {
		t.Helper()
		env, out, errb := testEnv()
		err := importAnnounces(ctx, env, []string{"--postgres-url", pg.URL, "--kafka-brokers", strings.Join(k.Brokers, ","),
			"--topic", k.Topic, "--progress", "0", jlFile, combFile, "--json"})
		if err != nil {
			t.Fatalf("%v\n%s", err, errb)
		}
		var res announces.Result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("stdout is not a summary: %v\n%s", err, out)
		}
		if !strings.Contains(errb.String(), jlFile+":4: not JSON") {
			t.Errorf("stderr does not report the bad line:\n%s", errb)
		}
		return res
	}
	res := importJSON()
	if res.Requests != 7 || res.Accepted != 6 || res.Refused != 1 || res.Refusals["REFUSAL_UNKNOWN_PASSKEY"] != 1 ||
		res.BadLines != 1 || res.Skipped[announces.SkipScrape] != 1 || res.Events != 7 {
		t.Fatalf("summary %+v", res)
	}

	evs := k.Announces(ctx, t)
	if len(evs) != 7 {
		t.Fatalf("%d events on the topic, want 7", len(evs))
	}
	var upA, downB, creditedDownB uint64
	ids := map[string]bool{}
	for _, ev := range evs {
		ids[string(ev.GetEventId())] = true
		if hexProducer := fmt.Sprintf("%x", ev.GetProducerId()); hexProducer != res.Producer {
			t.Errorf("producer %s, want %s", hexProducer, res.Producer)
		}
		switch ev.GetUserId() {
		case idA:
			upA += ev.GetDeltaUploaded()
			if ev.GetTorrentId() != t1 {
				t.Errorf("alice's event on torrent %d", ev.GetTorrentId())
			}
		case idB:
			downB += ev.GetDeltaDownloaded()
			creditedDownB += ev.GetCreditedDownloaded()
			if len(ev.GetIp()) != 16 {
				t.Errorf("bob's address %x is not IPv6", ev.GetIp())
			}
		case 0:
			if ev.GetRefusal() != events.Refusal_REFUSAL_UNKNOWN_PASSKEY {
				t.Errorf("user 0 event %v", ev)
			}
		default:
			t.Errorf("event of unknown user %d", ev.GetUserId())
		}
	}
	// Torrent 2 is freeleech: bob's 5000 bytes on it are not credited as downloaded.
	if upA != 300000000 || downB != 300005000 || creditedDownB != 300000000 {
		t.Errorf("alice uploaded %d, bob downloaded %d (credited %d)", upA, downB, creditedDownB)
	}
	if time.Unix(0, evs[0].GetTimeUnixNano()).Before(start) {
		t.Errorf("event time %d is not the log's", evs[0].GetTimeUnixNano())
	}

	// Again: the same event ids (ingest keeps the first copy of each).
	again := importJSON()
	if again.Digest != res.Digest || again.Producer != res.Producer {
		t.Fatalf("second import differs: %s vs %s", again.Digest, res.Digest)
	}
	evs = k.Announces(ctx, t)
	for _, ev := range evs {
		if !ids[string(ev.GetEventId())] {
			t.Fatalf("second import wrote a new event id %x", ev.GetEventId())
		}
	}
	if len(evs) != 14 {
		t.Fatalf("%d events after two imports, want 14 (7 ids twice)", len(evs))
	}
}
