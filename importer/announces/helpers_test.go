package announces

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/sim/replay"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// Passkeys and torrents of the tests' site.
const (
	pkA = "2ab6eb22de3161f316dd0fc063bf2791"
	pkB = "51e986b0010e1ee224359dbea6f32be8"
	pkX = "ffffffffffffffffffffffffffffffff" // unknown
)

var (
	ih1 = [20]byte{'k', 0xf6, 0xb0, 'v', 0x03, 0xc1, 0x0a, 0x1a, 0xe7, 0x1e, 0xc1, 'O', 0x1b, '9', 0xe1, 0x9e, 0xb3, 0xbd, ',', 0xfb}
	ih2 = [20]byte{'I', '0', 'W', 0x1d, 0xbf, 0xca, 0xe8, ']', 0xe0, 0xf0, '?', 0x08, 0x8f, '"', 'Q', 0xf4, 0xfd, 0x96, 0xf8, 'Q'}
)

// testPolicy: members A (1) and B (2), torrents 1 (10) and 2 (11), the
// default client rules.
func testPolicy(t testing.TB) *policy.Cache {
	c := policy.NewCache()
	c.PutUser(pkA, &core.User{ID: 1, Enabled: true, CanLeech: true})
	c.PutUser(pkB, &core.User{ID: 2, Enabled: true, CanLeech: true})
	c.PutTorrent(ih1, &core.Torrent{ID: 10, Size: 1 << 30, Promotion: core.NoPromotion})
	c.PutTorrent(ih2, &core.Torrent{ID: 11, Size: 1 << 30, Promotion: core.NoPromotion})
	if err := c.SetClientRules(replay.DefaultClientRules); err != nil {
		t.Fatal(err)
	}
	return c
}

// announceTarget is an announce URL as qBittorrent writes it.
func announceTarget(pk string, ih [20]byte, peer string, port int, up, down, left uint64, event string) string {
	q := fmt.Sprintf("/%s/announce?info_hash=%s&peer_id=%s&port=%d&uploaded=%d&downloaded=%d&left=%d&corrupt=0&key=B8C1F545",
		pk, url.QueryEscape(string(ih[:])), url.QueryEscape(peer), port, up, down, left)
	if event != "" {
		q += "&event=" + event
	}
	return q + "&numwant=200&compact=1&no_peer_id=1&supportcrypto=1&redundant=0"
}

// popgenLine is a popgen line (JSON strings without HTML escaping, as popgen writes them).
func popgenLine(t time.Time, ip, target, ua string) string {
	q := func(s string) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		_ = e.Encode(s)
		return strings.TrimSuffix(b.String(), "\n")
	}
	return fmt.Sprintf(`{"ts":%d,"ip":%s,"path":%s,"ua":%s}`, t.UnixMilli(), q(ip), q(target), q(ua))
}

// combinedLine is an nginx combined log line (nginx escapes '"' and bytes
// outside printable ASCII as \xHH).
func combinedLine(t time.Time, ip, method, target, ua string) string {
	esc := func(s string) string {
		var b bytes.Buffer
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
				fmt.Fprintf(&b, "\\x%02X", c)
			} else {
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	return fmt.Sprintf(`%s - - [%s] "%s %s HTTP/1.1" 200 57 "-" "%s"`, ip, t.Format("02/Jan/2006:15:04:05 -0700"), method, esc(target), esc(ua))
}

// writeFile writes lines (each followed by a newline) to dir/name, gzipped if gz.
func writeFile(t testing.TB, dir, name string, gz bool, lines ...string) string {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	data := b.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(data)
		w.Close()
		data = z.Bytes()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// memWriter keeps what the sink writes.
type memWriter struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

func (w *memWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	w.msgs = append(w.msgs, msgs...)
	w.mu.Unlock()
	return nil
}

func (w *memWriter) events(t testing.TB) []*events.Announce {
	t.Helper()
	out := make([]*events.Announce, 0, len(w.msgs))
	for _, m := range w.msgs {
		ev, err := events.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// runImport imports files into memory with the test policy; stderr is returned.
func runImport(t testing.TB, files []string, opts Options) (Result, []*events.Announce, string) {
	t.Helper()
	var errs bytes.Buffer
	w := &memWriter{}
	if opts.Policy == nil {
		opts.Policy = testPolicy(t)
	}
	opts.Writer, opts.Errors = w, &errs
	res, err := Run(context.Background(), files, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	return res, w.events(t), errs.String()
}

func hexID(b []byte) string { return hex.EncodeToString(b) }
