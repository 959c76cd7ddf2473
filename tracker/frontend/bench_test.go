package frontend

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// recycleSink gives every event back to the pool, as tracker/stream does
// once it has encoded it.
type recycleSink struct{ pool *core.EventPool }

func (s recycleSink) Publish(ev *events.Announce) { s.pool.Put(ev) }

// nopWriter is a ResponseWriter that keeps nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkHandlerAnnounce: the frontend's own cost per announce (routing,
// parsing, core, encoding, metrics) without the network and net/http's
// connection handling), with events pooled as in ratioguard tracker.
func BenchmarkHandlerAnnounce(b *testing.B) {
	cache := policy.NewCache()
	for u := 1; u <= 5000; u++ {
		cache.PutUser(fmt.Sprintf("%032x", u), &core.User{ID: uint64(u), Enabled: true, CanLeech: true})
	}
	for t := 1; t <= 10000; t++ {
		cache.PutTorrent([20]byte([]byte(fmt.Sprintf("%020d", t))), &core.Torrent{ID: uint64(t), Promotion: core.NoPromotion})
	}
	pool := core.NewEventPool()
	c := core.New(core.Config{Interval: 30 * time.Minute, MinInterval: time.Second, Events: pool}, cache, recycleSink{pool}, core.SystemClock{})
	reg := prometheus.NewRegistry()
	fe, err := New(c, Config{}, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	h := fe.Handler()
	reqs := make([]*http.Request, 50000)
	for s := range reqs {
		u, t := s%5000+1, ((s%5000)*2+(s/5000)*1001)%10000+1
		r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/%032x/announce?info_hash=%020d&peer_id=-qB4650-%012d&port=%d&uploaded=%d&downloaded=0&left=%d&corrupt=0&key=%08x&numwant=50&compact=1&no_peer_id=1&supportcrypto=1",
			u, t, s, 10000+s, s*1000, (s%3)*1000, s), nil)
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("User-Agent", "qBittorrent/4.6.5")
		reqs[s] = r
		h.ServeHTTP(&nopWriter{h: http.Header{}}, r)
	}
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, reqs[i%len(reqs)])
	}
}
