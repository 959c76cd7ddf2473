package announces

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/frontend"
	"github.com/ratioguard/ratioguard/tracker/offline"
)

// Options tune an import.
type Options struct {
	// Policy is the tracker's policy to replay against (members, torrents,
	// client rules, promotions, seedboxes): the CLI loads a snapshot of
	// Postgres once at the start.
	Policy core.Policy
	// Core is the announce core's configuration (interval, caps), as the
	// tracker's flags give it.
	Core core.Config
	// Writer receives the events; nil only counts and hashes them.
	Writer offline.MessageWriter
	// Producer is stamped on every event (first 8 bytes of its id); zero:
	// ProducerID of the files.
	Producer [8]byte
	// BatchSize is events per Kafka write (default 5000).
	BatchSize int
	// MaxLag is how far a line may be earlier than the clock and still be
	// replayed (at the clock); default 2 minutes, negative: none.
	MaxLag time.Duration
	// Errors receives the report of bad lines (nil: os.Stderr); the first
	// MaxReported (default 20) are quoted, later ones only counted.
	Errors      io.Writer
	MaxReported int
	// Progress, when set, is called every ProgressEvery of wall time
	// (default 10 s) with the result so far.
	Progress      func(Result)
	ProgressEvery time.Duration
}

// File is what an import did with one file.
type File struct {
	Name     string           `json:"name"`
	Format   Format           `json:"format"`
	Gzip     bool             `json:"gzip"`
	Lines    int64            `json:"lines"`
	Requests int64            `json:"requests"`
	Skipped  map[string]int64 `json:"skipped"`
	Bad      map[string]int64 `json:"bad"`
}

// Result is what an import did.
type Result struct {
	Files    []File    `json:"files"`
	Producer string    `json:"producer"`
	LogStart time.Time `json:"log_start"`
	// LogTime is the log time reached (the core's clock).
	LogTime  time.Time `json:"log_time"`
	Requests int64     `json:"requests"`
	Accepted int64     `json:"accepted"`
	Refused  int64     `json:"refused"`
	// Refusals counts refused requests by the core's reason.
	Refusals map[string]int64 `json:"refusals"`
	// Late requests were earlier than the clock (by at most MaxLag) and
	// replayed at the clock; MaxLate is the largest such lag.
	Late    int64         `json:"late"`
	MaxLate time.Duration `json:"max_late_ns"`
	// Skipped and Bad count lines by kind over all files.
	Skipped  map[string]int64 `json:"skipped"`
	Bad      map[string]int64 `json:"bad"`
	BadLines int64            `json:"bad_lines"`
	// Events were handed to the writer (all written when Run returns nil).
	Events    int64 `json:"events"`
	Bytes     int64 `json:"event_bytes"`
	Sanitized int64 `json:"sanitized"`
	// Unencodable events could not be encoded and were not written.
	Unencodable      int64         `json:"unencodable"`
	FirstEncodeError string        `json:"first_encode_error,omitempty"`
	Digest           string        `json:"sha256"`
	Elapsed          time.Duration `json:"elapsed_ns"`
	RequestsPerSec   float64       `json:"requests_per_s"`
}

// ProducerID derives an import's producer id from its files (in order):
// "im" and 6 bytes of a SHA-256 over each file's size and its first and last
// 64 KiB. The same files give the same id, hence the same event ids.
func ProducerID(names []string) ([8]byte, error) {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return [8]byte{}, err
		}
		st, err := f.Stat()
		if err == nil {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(st.Size()))
			h.Write(n[:])
			k, _ := io.ReadFull(f, buf)
			h.Write(buf[:k])
			if st.Size() > int64(len(buf)) {
				k, err = f.ReadAt(buf, max(st.Size()-int64(len(buf)), int64(len(buf))))
				if errors.Is(err, io.EOF) {
					err = nil
				}
				h.Write(buf[:k])
			}
		}
		f.Close()
		if err != nil {
			return [8]byte{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	var p [8]byte
	copy(p[:], "im")
	copy(p[2:], h.Sum(nil))
	return p, nil
}

// reporter prints bad lines: the first max quoted, then a count.
type reporter struct {
	mu    sync.Mutex
	w     io.Writer
	max   int
	n     int64
	extra int64
}

func (r *reporter) report(b badLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.n > int64(r.max) {
		r.extra++
		return
	}
	text := b.text
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	fmt.Fprintf(r.w, "%s:%d: %s (%s), skipped: %q\n", b.file, b.no, b.kind, b.msg, text)
	if r.n == int64(r.max) {
		fmt.Fprintf(r.w, "(further bad lines are only counted)\n")
	}
}

// cursor is one file's position in the merge.
type cursor struct {
	idx  int
	in   <-chan *batch
	free chan *batch
	b    *batch
	i    int
}

type mergeHeap []*cursor

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	a, b := h[i].b.lines[h[i].i].t, h[j].b.lines[h[j].i].t
	return a < b || a == b && h[i].idx < h[j].idx
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Run imports the files: reads them (one goroutine each), merges them by
// time and replays their announces through the frontend parser and a fresh
// core into opts.Writer. It stops at the first read or write error or when
// ctx ends; the result tells how far it got.
func Run(ctx context.Context, names []string, opts Options) (Result, error) {
	began := time.Now()
	res := Result{Refusals: map[string]int64{}, Skipped: map[string]int64{}, Bad: map[string]int64{}}
	if len(names) == 0 {
		return res, errors.New("no files to import")
	}
	if opts.Policy == nil {
		return res, errors.New("no policy to replay against")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.MaxLag == 0 {
		opts.MaxLag = 2 * time.Minute
	}
	if opts.MaxReported <= 0 {
		opts.MaxReported = 20
	}
	if opts.Errors == nil {
		opts.Errors = os.Stderr
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 10 * time.Second
	}
	if opts.Producer == ([8]byte{}) {
		p, err := ProducerID(names)
		if err != nil {
			return res, err
		}
		opts.Producer = p
	}
	res.Producer = hex.EncodeToString(opts.Producer[:])
	rep := &reporter{w: opts.Errors, max: opts.MaxReported}

	// Open every file first: a missing file stops the import before anything is written.
	srcs := make([]*source, 0, len(names))
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	for _, name := range names {
		s, err := open(name)
		if err != nil {
			return res, err
		}
		srcs = append(srcs, s)
		res.Files = append(res.Files, File{Name: name, Format: s.format, Gzip: s.gzip, Skipped: map[string]int64{}, Bad: map[string]int64{}})
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	readers := make([]*reader, len(srcs))
	curs := make([]*cursor, len(srcs))
	for i, s := range srcs {
		out := make(chan *batch, 4)
		free := make(chan *batch, 6)
		for range 6 {
			free <- newBatch()
		}
		curs[i] = &cursor{idx: i, in: out, free: free}
		r := &reader{src: s, report: rep.report}
		readers[i] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(out, free, stop)
		}()
	}
	stopReaders := sync.OnceFunc(func() {
		close(stop)
		for _, c := range curs {
			for range c.in { // unblock the readers
			}
		}
		wg.Wait()
	})
	defer stopReaders()

	sink := offline.NewSink(ctx, opts.Writer, opts.Producer, opts.BatchSize)
	var (
		run     *offline.Runner
		parser  frontend.Parser
		req     core.Request
		ans     core.Answer
		clock   int64
		readErr error
	)
	fill := func() {
		res.Events, res.Bytes, res.Accepted, res.Refused = sink.Events, sink.Bytes, sink.Accepted, sink.Refused
		res.Sanitized, res.Unencodable, res.FirstEncodeError = sink.Sanitized, sink.Unencodable, sink.FirstEncodeError
		res.Refusals = maps.Clone(sink.Refusals)
		if clock != 0 {
			res.LogTime = time.Unix(0, clock).UTC()
		}
		res.Elapsed = time.Since(began)
		if s := res.Elapsed.Seconds(); s > 0 {
			res.RequestsPerSec = float64(res.Requests) / s
		}
	}
	// next moves c to its next line, taking batches (and their counts) as
	// they come; false when the file is done.
	next := func(c *cursor) bool {
		c.i++
		for c.b == nil || c.i >= len(c.b.lines) {
			if c.b != nil {
				c.free <- c.b
				c.b = nil
			}
			b, ok := <-c.in
			if !ok {
				if e := readers[c.idx].err; e != nil && readErr == nil {
					readErr = e
				}
				return false
			}
			f := &res.Files[c.idx]
			for k, n := range b.skipped {
				f.Skipped[k] += n
				res.Skipped[k] += n
				f.Lines += n
			}
			for k, n := range b.bad {
				f.Bad[k] += n
				res.Bad[k] += n
				res.BadLines += n
				f.Lines += n
			}
			f.Lines += int64(len(b.lines))
			c.b, c.i = b, 0
		}
		return true
	}
	h := make(mergeHeap, 0, len(curs))
	for _, c := range curs {
		c.i = -1
		if next(c) {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	lastProgress := time.Now()
	var err error
	for n := 0; len(h) > 0; n++ {
		c := h[0]
		l := &c.b.lines[c.i]
		if l.t < clock {
			if lag := time.Duration(clock - l.t); opts.MaxLag >= 0 && lag <= opts.MaxLag {
				res.Late++
				res.MaxLate = max(res.MaxLate, lag)
			} else {
				f := &res.Files[c.idx]
				f.Bad[BadOrder]++
				res.Bad[BadOrder]++
				res.BadLines++
				rep.report(badLine{file: f.Name, no: l.no, kind: BadOrder,
					msg:  fmt.Sprintf("%s earlier than the log time reached, %s; the limit is --max-lag %s", lag, time.Unix(0, clock).UTC().Format(time.RFC3339), opts.MaxLag),
					text: time.Unix(0, l.t).UTC().Format(time.RFC3339Nano) + " " + l.url.String()})
				l = nil
			}
		} else {
			clock = l.t
		}
		if l != nil {
			if run == nil {
				res.LogStart = time.Unix(0, clock).UTC()
				run = offline.NewRunner(opts.Core, opts.Policy, sink, res.LogStart)
			}
			parser.Parse(&l.url, l.ua, l.addr, &req)
			run.Announce(time.Unix(0, clock), &req, &ans)
			res.Requests++
			res.Files[c.idx].Requests++
		}
		if next(c) {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
			if readErr != nil {
				err = readErr
				break
			}
		}
		if n&4095 == 0 {
			if err = sink.Err(); err != nil {
				break
			}
			if err = ctx.Err(); err != nil {
				break
			}
			if opts.Progress != nil && time.Since(lastProgress) >= opts.ProgressEvery {
				lastProgress = time.Now()
				fill()
				opts.Progress(res)
			}
		}
	}
	if err == nil {
		err = readErr
	}
	stopReaders()
	closeErr := sink.Close()
	fill()
	res.Digest = sink.Digest()
	if rep.extra > 0 {
		fmt.Fprintf(opts.Errors, "%d more bad lines not shown\n", rep.extra)
	}
	if err == nil {
		err = closeErr
	}
	if err != nil {
		return res, fmt.Errorf("import announces: %w", err)
	}
	return res, nil
}
