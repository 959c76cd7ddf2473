package conntimeout_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/conntimeout"
	"github.com/ratioguard/ratioguard/tracker/internal/keepalive"
)

// BenchmarkKeepAlive: one keep-alive connection, request after request, on
// loopback (client and server in the process, so ns/op is both): the
// server with net/http's own deadlines as the tracker had them, with
// conntimeout's sweeper instead, and with no limit at all (the floor).
// cpu-ns/op is the process's CPU time (getrusage) per request: on a loaded
// machine the wall time per request is mostly waiting.
func BenchmarkKeepAlive(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		_, _ = io.WriteString(w, "d8:intervali1800ee")
	})
	for _, tc := range []struct {
		name      string
		deadlines bool
		wrap      bool
	}{
		{"net-http-deadlines", true, false},
		{"conntimeout", false, true},
		{"no-limits", false, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := &http.Server{Handler: h}
			if tc.deadlines {
				srv.ReadHeaderTimeout, srv.ReadTimeout = 5*time.Second, 10*time.Second
				srv.WriteTimeout, srv.IdleTimeout = 10*time.Second, 2*time.Minute
			}
			var ln net.Listener
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			if tc.wrap {
				ln = conntimeout.New(ln, conntimeout.Limits{})
			}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			keepalive.Bench(b, ln.Addr().String(), []byte(get))
		})
	}
}
