// Package live owns driving a running tracker over HTTP in real time: the
// engine's announces are sent as GET /{passkey}/announce with each client's
// own query string and User-Agent, the simulated client address in
// X-Forwarded-For (the tracker must trust the sim's loopback address as a
// proxy), one worker per group of agents so each peer's announces stay in
// order. It counts answers, refusals by reason and latencies.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/engine"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
	"github.com/ratioguard/ratioguard/tracker/bencode"
)

// Options tune a live run.
type Options struct {
	Tracker string // base URL, e.g. http://127.0.0.1:6969
	Workers int    // concurrent connections (default 16)
	// AddrHeader carries the simulated client address (default X-Forwarded-For).
	AddrHeader string
	Client     *http.Client
	Log        *slog.Logger
	// Progress, when set, is called about every ProgressEvery of wall time.
	Progress      func(Result)
	ProgressEvery time.Duration
}

// Result counts what the tracker answered.
type Result struct {
	Announces  int64            `json:"announces"`
	Answered   int64            `json:"answered"`
	Refused    int64            `json:"refused"`
	Errors     int64            `json:"transport_errors"`
	Refusals   map[string]int64 `json:"refusals"`
	FirstError string           `json:"first_error,omitempty"`
	P50        time.Duration    `json:"latency_p50_ns"`
	P99        time.Duration    `json:"latency_p99_ns"`
	Elapsed    time.Duration    `json:"elapsed_ns"`
	Engine     engine.Stats     `json:"engine"`
}

type wallClock struct{}

func (wallClock) WaitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

type counters struct {
	announces, answered, refused, errors atomic.Int64
	mu                                   sync.Mutex
	refusals                             map[string]int64
	firstErr                             string
	lat                                  []time.Duration
}

func (c *counters) refusal(msg string) {
	c.refused.Add(1)
	c.mu.Lock()
	c.refusals[msg]++
	c.mu.Unlock()
}

func (c *counters) fail(err error) {
	c.errors.Add(1)
	c.mu.Lock()
	if c.firstErr == "" {
		c.firstErr = err.Error()
	}
	c.mu.Unlock()
}

func (c *counters) result() Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Result{
		Announces: c.announces.Load(), Answered: c.answered.Load(), Refused: c.refused.Load(), Errors: c.errors.Load(),
		Refusals: map[string]int64{}, FirstError: c.firstErr,
	}
	for k, v := range c.refusals {
		r.Refusals[k] = v
	}
	if n := len(c.lat); n > 0 {
		s := slices.Clone(c.lat)
		slices.Sort(s)
		r.P50, r.P99 = s[n/2], s[min(n-1, n*99/100)]
	}
	return r
}

// Run drives the tracker with the population, in real time from pop.Start
// (which should be about now) to pop.End. Every client shuts down cleanly at
// the end.
func Run(ctx context.Context, s *spec.Spec, pop *population.Population, opts Options) (Result, error) {
	began := time.Now()
	base, err := checkBase(opts.Tracker)
	if err != nil {
		return Result{}, err
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.AddrHeader == "" {
		opts.AddrHeader = "X-Forwarded-For"
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: opts.Workers, MaxConnsPerHost: opts.Workers}}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	c := &counters{refusals: map[string]int64{}}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	queues := make([]chan clients.Announce, opts.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan clients.Announce, 256)
		wg.Add(1)
		go func(q <-chan clients.Announce) {
			defer wg.Done()
			for a := range q {
				if runCtx.Err() != nil {
					continue
				}
				send(runCtx, opts, base, &a, c)
				if c.errors.Load() >= 20 && c.answered.Load() == 0 {
					cancel(fmt.Errorf("tracker at %s does not answer: %s", base, c.firstErr))
				}
			}
		}(queues[i])
	}
	stopProgress := make(chan struct{})
	if opts.Progress != nil {
		every := opts.ProgressEvery
		if every <= 0 {
			every = 5 * time.Second
		}
		go func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					opts.Progress(c.result())
				}
			}
		}()
	}
	eng := engine.New(s, pop, engine.Options{FlushAtEnd: true})
	runErr := eng.Run(runCtx, wallClock{}, func(ctx context.Context, batch []clients.Announce) error {
		for _, a := range batch {
			select {
			case queues[int(a.AgentID)%len(queues)] <- a:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	close(stopProgress)
	res := c.result()
	res.Engine = eng.Stats()
	res.Elapsed = time.Since(began)
	if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return res, cause
	}
	if runErr != nil && ctx.Err() == nil {
		return res, fmt.Errorf("live run: %w", runErr)
	}
	return res, nil
}

func checkBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracker URL %q must look like http://127.0.0.1:6969", raw)
	}
	return u.String(), nil
}

func send(ctx context.Context, opts Options, base string, a *clients.Announce, c *counters) {
	c.announces.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+a.Passkey+"/announce?"+a.Query(), nil)
	if err != nil {
		c.fail(err)
		return
	}
	req.Header.Set("User-Agent", a.UserAgent())
	req.Header.Set(opts.AddrHeader, a.IP.String())
	start := time.Now()
	resp, err := opts.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			c.fail(err)
		}
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		c.fail(fmt.Errorf("read answer: %w", err))
		return
	}
	if resp.StatusCode != http.StatusOK {
		c.fail(fmt.Errorf("tracker answered HTTP %d to %s", resp.StatusCode, req.URL.Path))
		return
	}
	v, err := bencode.Decode(body)
	d, ok := v.(map[string]any)
	if err != nil || !ok {
		c.fail(fmt.Errorf("tracker answer is not a bencoded dictionary: %q", clip(body)))
		return
	}
	c.mu.Lock()
	c.lat = append(c.lat, lat)
	c.mu.Unlock()
	if f, ok := d["failure reason"]; ok {
		c.refusal(fmt.Sprint(f))
		return
	}
	c.answered.Add(1)
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// WaitForPasskey polls the tracker's scrape of one torrent until it knows the passkey (the
// tracker loads new members from Postgres asynchronously). Each probe comes
// from its own address so the bad-passkey rate limit does not block the sim.
func WaitForPasskey(ctx context.Context, tracker, passkey string, infoHash [20]byte, addrHeader string, timeout time.Duration) error {
	base, err := checkBase(tracker)
	if err != nil {
		return err
	}
	if addrHeader == "" {
		addrHeader = "X-Forwarded-For"
	}
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 5 * time.Second}
	var last string
	for i := 1; ; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/"+passkey+"/scrape?info_hash="+url.QueryEscape(string(infoHash[:])), nil)
		if err != nil {
			return err
		}
		req.Header.Set(addrHeader, netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}).String())
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			v, derr := bencode.Decode(body)
			d, _ := v.(map[string]any)
			if resp.StatusCode == http.StatusOK && derr == nil && d != nil {
				if f, bad := d["failure reason"]; !bad {
					return nil
				} else {
					last = fmt.Sprint(f)
				}
			} else {
				last = fmt.Sprintf("HTTP %d %q", resp.StatusCode, clip(body))
			}
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tracker at %s still refuses the simulated members after %s: %s", base, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}
