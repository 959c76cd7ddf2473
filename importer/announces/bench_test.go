package announces

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// benchLog writes n popgen-like lines (2,000 members on 500 torrents, each
// session re-announcing every 30 min with growing counters) and returns the
// file and the policy that knows them.
func benchLog(b *testing.B, n int, combined bool) (string, *policy.Cache) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	pol := policy.NewCache()
	pks := make([]string, 2000)
	for i := range pks {
		pks[i] = fmt.Sprintf("%032x", rng.Uint64())
		pol.PutUser(pks[i], &core.User{ID: uint64(i + 1), Enabled: true, CanLeech: true})
	}
	ihs := make([][20]byte, 500)
	for i := range ihs {
		binary.BigEndian.PutUint64(ihs[i][:], rng.Uint64())
		binary.BigEndian.PutUint64(ihs[i][8:], rng.Uint64())
		pol.PutTorrent(ihs[i], &core.Torrent{ID: uint64(i + 1), Size: 4 << 30, Promotion: core.NoPromotion})
	}
	name := filepath.Join(b.TempDir(), "bench.log")
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	type session struct {
		pk   string
		ih   [20]byte
		peer string
		ip   string
		up   uint64
	}
	sessions := make([]session, 6000)
	for i := range sessions {
		m := rng.IntN(len(pks))
		sessions[i] = session{pk: pks[m], ih: ihs[rng.IntN(len(ihs))],
			peer: fmt.Sprintf("-qB4650-%012d", i), ip: fmt.Sprintf("10.0.%d.%d", m>>8, m&255)}
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	step := 30 * time.Minute / time.Duration(len(sessions))
	for i := range n {
		s := &sessions[i%len(sessions)]
		s.up += uint64(rng.IntN(1 << 24))
		tg := announceTarget(s.pk, s.ih, s.peer, 40000+i%len(sessions)%20000, s.up, 0, 0, "")
		at := start.Add(time.Duration(i) * step)
		if combined {
			fmt.Fprintln(w, combinedLine(at, s.ip, "GET", tg, "qBittorrent/4.6.5"))
		} else {
			fmt.Fprintln(w, popgenLine(at, s.ip, tg, "qBittorrent/4.6.5"))
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return name, pol
}

const benchLines = 200_000

// BenchmarkImport: read, parse, frontend parser, core, encoding and hashing
// of the events (no Kafka), per request.
func BenchmarkImport(b *testing.B) {
	for _, combined := range []bool{false, true} {
		b.Run(map[bool]string{false: "jsonl", true: "combined"}[combined], func(b *testing.B) {
			name, pol := benchLog(b, benchLines, combined)
			b.ResetTimer()
			var reqs int64
			began := time.Now()
			for range b.N {
				res, err := Run(context.Background(), []string{name}, Options{Policy: pol, Errors: io.Discard})
				if err != nil {
					b.Fatal(err)
				}
				if res.Accepted < benchLines*9/10 {
					b.Fatalf("only %d of %d accepted: %v", res.Accepted, res.Requests, res.Refusals)
				}
				reqs += res.Requests
			}
			b.ReportMetric(float64(reqs)/time.Since(began).Seconds(), "requests/s")
			b.ReportMetric(float64(time.Since(began).Nanoseconds())/float64(reqs), "ns/request")
		})
	}
}

// BenchmarkReadParse is the baseline: the same files only read and parsed
// into requests' URLs (the readers' goroutine), without core or events.
func BenchmarkReadParse(b *testing.B) {
	for _, combined := range []bool{false, true} {
		b.Run(map[bool]string{false: "jsonl", true: "combined"}[combined], func(b *testing.B) {
			name, _ := benchLog(b, benchLines, combined)
			b.ResetTimer()
			var lines int64
			began := time.Now()
			for range b.N {
				n, err := readOnly(name)
				if err != nil {
					b.Fatal(err)
				}
				lines += n
			}
			b.ReportMetric(float64(lines)/time.Since(began).Seconds(), "lines/s")
		})
	}
}

// readOnly reads and parses a file as an import does, counting its good lines.
func readOnly(name string) (int64, error) {
	src, err := open(name)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	r := &reader{src: src}
	out, free, stop := make(chan *batch, 4), make(chan *batch, 6), make(chan struct{})
	for range 6 {
		free <- newBatch()
	}
	go r.run(out, free, stop)
	var n int64
	for b := range out {
		n += int64(len(b.lines))
		free <- b
	}
	return n, r.err
}

// BenchmarkReadParseFiles is the read+parse baseline of scripts/import-bench.sh
// on real files (IMPORT_BENCH_FILES, space-separated; skipped when unset).
func BenchmarkReadParseFiles(b *testing.B) {
	names := strings.Fields(os.Getenv("IMPORT_BENCH_FILES"))
	if len(names) == 0 {
		b.Skip("IMPORT_BENCH_FILES not set")
	}
	var lines int64
	began := time.Now()
	for range b.N {
		for _, name := range names {
			n, err := readOnly(name)
			if err != nil {
				b.Fatal(err)
			}
			lines += n
		}
	}
	el := time.Since(began)
	b.ReportMetric(float64(lines)/el.Seconds(), "lines/s")
	b.ReportMetric(float64(lines)/float64(b.N), "lines")
	b.ReportMetric(el.Seconds()/float64(b.N), "s/pass")
}
