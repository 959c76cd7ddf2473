package wire_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/conntimeout"
	"github.com/ratioguard/ratioguard/tracker/frontend"
	"github.com/ratioguard/ratioguard/tracker/internal/keepalive"
	"github.com/ratioguard/ratioguard/tracker/wire"
)

// BenchmarkKeepAlive: one keep-alive connection, request after request, on
// loopback (client and server in the process, so ns/op is both), to a
// handler answering a fixed announce answer, served by net/http (NewStd)
// and by Server, each over conntimeout as the tracker serves them.
// cpu-ns/op is the process's CPU time (getrusage) per request: on a loaded
// machine the wall time per request is mostly waiting.
func BenchmarkKeepAlive(b *testing.B) {
	answer := []byte("d8:completei5e10:incompletei3e8:intervali1800e12:min intervali900e5:peers0:e")
	h := frontend.HandlerFunc(func(w frontend.ResponseWriter, _ *frontend.Request) { w.WriteAnswer(http.StatusOK, answer) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	req := []byte("GET /0123456789abcdef0123456789abcdef/announce?info_hash=%de%ad%be%ef%25%26%3d%2b+%00%01%02%03%04%05%06%07%08%09%0a" +
		"&peer_id=-qB4650-aaaaaaaaaaaa&port=6881&uploaded=0&downloaded=0&left=0&compact=1 HTTP/1.1\r\n" +
		"Host: 127.0.0.1\r\nUser-Agent: qBittorrent/4.6.5\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n")
	for _, kind := range []string{"std", "wire"} {
		b.Run(kind, func(b *testing.B) {
			var srv interface {
				Serve(net.Listener) error
				Shutdown(context.Context) error
			}
			if kind == "std" {
				srv = wire.NewStd(h, log)
			} else {
				srv = wire.New(h, log)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = srv.Serve(conntimeout.New(ln, conntimeout.Limits{})) }()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			keepalive.Bench(b, ln.Addr().String(), req)
		})
	}
}
