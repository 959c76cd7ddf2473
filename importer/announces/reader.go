package announces

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"

	"github.com/ratioguard/ratioguard/tracker/frontend"
)

// Format is a log format.
type Format int

// The formats a file may be in.
const (
	FormatJSONL    Format = iota + 1 // popgen's JSON lines
	FormatCombined                   // nginx/Apache combined (or common) access log
)

func (f Format) String() string {
	switch f {
	case FormatJSONL:
		return "jsonl"
	case FormatCombined:
		return "combined"
	}
	return "unknown"
}

// MarshalText writes the format's name.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads a format's name.
func (f *Format) UnmarshalText(b []byte) error {
	for _, g := range []Format{FormatJSONL, FormatCombined} {
		if string(b) == g.String() {
			*f = g
			return nil
		}
	}
	return fmt.Errorf("unknown log format %q", b)
}

// Kinds of bad lines.
const (
	BadJSON    = "not JSON"
	BadMissing = "missing field"
	BadTime    = "bad time"
	BadIP      = "bad address"
	BadRequest = "bad request line"
	BadTarget  = "bad target"
	BadTooLong = "line too long"
	BadOrder   = "out of order"
	SkipBlank  = "blank"
	SkipMethod = "not GET"
	// SkipNoRequest: a combined log line whose request is "-" or not
	// METHOD TARGET PROTOCOL (a connection closed early, TLS on the HTTP port).
	SkipNoRequest = "no HTTP request"
	SkipScrape    = "scrape"
	SkipOther     = "other path"
	maxLineSize   = 64 << 10
)

// line is one request of a log, parsed as far as the reader goroutine goes:
// the target is split into a URL, the address parsed.
type line struct {
	t    int64 // Unix nanoseconds
	addr netip.Addr
	url  url.URL
	ua   string
	no   int64 // line number in its file, from 1
}

// batch is a run of consecutive good lines of one file, with the counts of
// the lines skipped or bad among them.
type batch struct {
	lines   []line
	skipped map[string]int64
	bad     map[string]int64
}

const batchLines = 1024

func newBatch() *batch {
	return &batch{lines: make([]line, 0, batchLines), skipped: map[string]int64{}, bad: map[string]int64{}}
}

func (b *batch) reset() {
	b.lines = b.lines[:0]
	clear(b.skipped)
	clear(b.bad)
}

// badLine is reported for a line that is skipped as bad.
type badLine struct {
	file string
	no   int64
	kind string
	msg  string
	text string
}

// source is one opened input file.
type source struct {
	name   string
	f      *os.File
	gz     *gzip.Reader
	br     *bufio.Reader
	format Format
	gzip   bool
}

var gzipMagic = []byte{0x1f, 0x8b}

// open opens name, unwraps gzip (by its magic bytes) and recognises the
// format by the first non-blank byte: '{' is JSON lines, anything else a
// combined log.
func open(name string) (*source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	s := &source{name: name, f: f}
	br := bufio.NewReaderSize(f, 1<<20)
	if head, _ := br.Peek(2); bytes.Equal(head, gzipMagic) {
		s.gz, err = gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		s.gzip = true
		br = bufio.NewReaderSize(s.gz, 1<<20)
	}
	s.br = br
	s.format = FormatCombined
	for n := 64; ; n *= 2 {
		head, err := br.Peek(n)
		if i := bytes.IndexFunc(head, func(r rune) bool { return r != ' ' && r != '\t' && r != '\r' && r != '\n' }); i >= 0 {
			if head[i] == '{' {
				s.format = FormatJSONL
			}
			break
		}
		if err != nil || n >= maxLineSize {
			break
		}
	}
	return s, nil
}

func (s *source) Close() error {
	if s.gz != nil {
		s.gz.Close()
	}
	return s.f.Close()
}

// reader turns a source into batches of good lines on its own goroutine.
type reader struct {
	src    *source
	no     int64
	arena  []byte
	starts []int32 // offsets of lines in arena, and their end
	nos    []int64
	report func(badLine)
	err    error // set before out is closed
}

// run reads the whole source, sending full batches to out and taking empty
// ones from free, until the end of the file, a read error (then r.err; a bad
// line is not one) or stop; it closes out when it returns.
func (r *reader) run(out chan<- *batch, free <-chan *batch, stop <-chan struct{}) {
	defer close(out)
	for {
		var b *batch
		select {
		case b = <-free:
		case <-stop:
			return
		}
		b.reset()
		eof, err := r.fill(b)
		if len(b.lines) > 0 || len(b.bad) > 0 || len(b.skipped) > 0 {
			select {
			case out <- b:
			case <-stop:
				return
			}
		}
		if err != nil || eof {
			r.err = err
			return
		}
	}
}

// fill reads up to batchLines lines into b.
func (r *reader) fill(b *batch) (eof bool, err error) {
	r.arena = r.arena[:0]
	r.starts = r.starts[:0]
	r.nos = r.nos[:0]
	for len(r.nos) < batchLines && len(r.arena) < 512<<10 {
		raw, rerr := r.src.br.ReadSlice('\n')
		if errors.Is(rerr, bufio.ErrBufferFull) {
			// Longer than the reader's buffer: bad, skip to its end.
			r.no++
			for errors.Is(rerr, bufio.ErrBufferFull) {
				_, rerr = r.src.br.ReadSlice('\n')
			}
			r.bad(b, r.no, BadTooLong, "longer than the 1 MiB read buffer", string(raw[:200]))
			if rerr == io.EOF {
				eof = true
				break
			}
			if rerr != nil {
				return false, fmt.Errorf("%s: read: %w", r.src.name, rerr)
			}
			continue
		}
		if len(raw) > 0 {
			r.no++
			r.starts = append(r.starts, int32(len(r.arena)))
			r.nos = append(r.nos, r.no)
			r.arena = append(r.arena, raw...)
		}
		if rerr == io.EOF {
			eof = true
			break
		}
		if rerr != nil {
			return false, fmt.Errorf("%s: read: %w", r.src.name, rerr)
		}
	}
	// One string per batch: the lines' strings are substrings of it.
	all := string(r.arena)
	for i, start := range r.starts {
		end := len(all)
		if i+1 < len(r.starts) {
			end = int(r.starts[i+1])
		}
		r.parse(b, all[start:end], r.nos[i])
	}
	return eof, nil
}

func (r *reader) bad(b *batch, no int64, kind, msg, text string) {
	b.bad[kind]++
	if r.report != nil {
		r.report(badLine{file: r.src.name, no: no, kind: kind, msg: msg, text: text})
	}
}

// parse parses one line (with its end of line) into b.
func (r *reader) parse(b *batch, text string, no int64) {
	text = trimEOL(text)
	if len(text) > maxLineSize {
		r.bad(b, no, BadTooLong, fmt.Sprintf("%d bytes (at most %d)", len(text), maxLineSize), text[:200])
		return
	}
	if isBlank(text) {
		b.skipped[SkipBlank]++
		return
	}
	var f fields
	var kind, msg string
	if r.src.format == FormatJSONL {
		kind, msg = parseJSONL(text, &f)
	} else {
		kind, msg = parseCombined(text, &f)
	}
	if kind == "" && f.method != "GET" {
		if f.method == "" {
			b.skipped[SkipNoRequest]++
		} else {
			b.skipped[SkipMethod]++
		}
		return
	}
	var l line
	if kind == "" {
		l.addr, kind, msg = parseAddr(f.ip)
	}
	if kind == "" {
		if err := frontend.ParseTarget(f.target, &l.url); err != nil {
			kind, msg = BadTarget, err.Error()
		}
	}
	if kind != "" {
		r.bad(b, no, kind, msg, text)
		return
	}
	if _, ok := frontend.AnnounceRoute(&l.url); !ok {
		if isScrape(l.url.Path) {
			b.skipped[SkipScrape]++
		} else {
			b.skipped[SkipOther]++
		}
		return
	}
	l.t, l.ua, l.no = f.t, f.ua, no
	b.lines = append(b.lines, l)
}

func parseAddr(s string) (netip.Addr, string, string) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, BadIP, err.Error()
	}
	return a.Unmap(), "", ""
}

func isScrape(path string) bool {
	const s = "/scrape"
	return len(path) >= len(s) && path[len(path)-len(s):] == s
}

func trimEOL(s string) string {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
		if n := len(s); n > 0 && s[n-1] == '\r' {
			s = s[:n-1]
		}
	}
	return s
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// fields are what a format yields for a line.
type fields struct {
	t      int64
	ip     string
	method string
	target string
	ua     string
}
