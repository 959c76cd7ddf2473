package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

type recorded struct {
	path, rawQuery, ua, xff string
}

// A short live run against an in-process server that records every request:
// each request carries its client's own parameter order, key format and
// User-Agent, the passkey in the path and the simulated address in
// X-Forwarded-For.
func TestLiveSendsEachClientsFingerprint(t *testing.T) {
	var mu sync.Mutex
	var reqs []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, recorded{r.URL.Path, r.URL.RawQuery, r.Header.Get("User-Agent"), r.Header.Get("X-Forwarded-For")})
		n := len(reqs)
		mu.Unlock()
		if n%10 == 0 {
			_, _ = w.Write([]byte("d14:failure reason11:not allowede"))
			return
		}
		_, _ = w.Write([]byte("d8:completei1e10:incompletei2e8:intervali2e5:peers0:e"))
	}))
	defer srv.Close()

	s := spec.Default()
	s.Members, s.Torrents.Initial = 40, 30
	s.Tick, s.Interval, s.Duration = 250*time.Millisecond, time.Second, 2*time.Second
	s.Behavior.AlwaysOn, s.Behavior.InitialSeeding, s.Behavior.GrabsPerDay = 1, 3, 1e5
	s.Cheaters = spec.CheaterSpec{NaiveFaker: 2, CarefulFaker: 2, StartFrom: 0, StartTo: 0}
	start := time.Now().Truncate(time.Second).Add(time.Second)
	p, err := population.Build(s, start, start.Add(s.Duration))
	if err != nil {
		t.Fatal(err)
	}
	passkeys := map[string]*population.Member{}
	for _, m := range p.Members {
		passkeys[m.Passkey] = m
	}
	res, err := Run(context.Background(), s, p, Options{Tracker: srv.URL, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Announces == 0 || res.Announces != int64(len(reqs)) || res.Refused == 0 || res.Answered+res.Refused != res.Announces {
		t.Fatalf("result %+v for %d requests", res, len(reqs))
	}
	if res.Refusals["not allowed"] != res.Refused {
		t.Fatalf("refusals %v", res.Refusals)
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		m := passkeys[strings.TrimSuffix(strings.TrimPrefix(r.path, "/"), "/announce")]
		if m == nil {
			t.Fatalf("request for an unknown path %s", r.path)
		}
		var names []string
		var key string
		for _, kv := range strings.Split(r.rawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			names = append(names, k)
			if k == "key" {
				key = v
			}
		}
		// qBittorrent and the faker mimicking it share the User-Agent and
		// peer_id prefix: the parameter order tells them apart.
		var tpl *clients.Template
		for _, name := range append(clients.Honest(), "ratiofaker-fixed", "ratiofaker-mimic") {
			c := clients.MustByName(name)
			if c.UserAgent == r.ua && strings.Contains(r.rawQuery, "peer_id="+escapedPrefix(c)) && strings.Join(names, ",") == expectedOrder(c, r.rawQuery) {
				tpl = c
			}
		}
		if tpl == nil {
			t.Fatalf("request matches no client template's User-Agent, peer_id and order: UA %q query %s", r.ua, r.rawQuery)
		}
		seen[tpl.Name] = true
		if !keyFormat[tpl.KeyStyle].MatchString(key) {
			t.Fatalf("%s sent key %q", tpl.Name, key)
		}
		if _, err := netip.ParseAddr(r.xff); err != nil {
			t.Fatalf("X-Forwarded-For %q: %v", r.xff, err)
		}
	}
	for _, name := range []string{"qbittorrent", "ratiofaker-fixed", "ratiofaker-mimic"} {
		if !seen[name] {
			t.Errorf("no request from %s among %d (seen %v)", name, len(reqs), seen)
		}
	}
}

var keyFormat = map[clients.KeyStyle]*regexp.Regexp{
	clients.KeyHexUpper8:   regexp.MustCompile(`^[0-9A-F]{8}$`),
	clients.KeyHexLower8:   regexp.MustCompile(`^[0-9a-f]{8}$`),
	clients.KeyPeerIDTail8: regexp.MustCompile(`^([0-9A-Za-z]|%[0-9A-F]{2}){8}$`),
	clients.KeyHexLower6:   regexp.MustCompile(`^[0-9a-f]{6}$`),
}

func escapedPrefix(c *clients.Template) string {
	a := &clients.Announce{Client: c}
	copy(a.PeerID[:], c.PeerIDPrefix)
	q := (&clients.Template{Params: []clients.Param{{Name: "peer_id"}}, Escape: c.Escape}).Query(a)
	// Cut the escaped zero bytes of the tail.
	return strings.TrimPrefix(strings.SplitN(q, "%00", 2)[0], "peer_id=")
}

// expectedOrder is the template's parameter list filtered by the conditions
// visible in the query itself.
func expectedOrder(c *clients.Template, q string) string {
	var out []string
	for _, p := range c.Params {
		switch p.When {
		case clients.WithEvent:
			if !strings.Contains(q, "event=") {
				continue
			}
		case clients.NotStopped:
			if strings.Contains(q, "event=stopped") {
				continue
			}
		case clients.NonZeroCorrupt:
			if !strings.Contains(q, "corrupt=") {
				continue
			}
		}
		out = append(out, p.Name)
	}
	return strings.Join(out, ",")
}

func TestWaitForPasskey(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			_, _ = w.Write([]byte("d14:failure reason15:unknown passkeye"))
			return
		}
		_, _ = w.Write([]byte("d5:filesdee"))
	}))
	defer srv.Close()
	if err := WaitForPasskey(context.Background(), srv.URL, "abc", [20]byte{1}, "", 5*time.Second); err != nil || calls != 3 {
		t.Fatalf("WaitForPasskey = %v after %d calls", err, calls)
	}
	if err := WaitForPasskey(context.Background(), "ftp://x", "abc", [20]byte{}, "", time.Second); err == nil {
		t.Fatal("a non-HTTP tracker URL was accepted")
	}
}
