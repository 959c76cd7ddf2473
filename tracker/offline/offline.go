// Package offline owns running the tracker's announce core (tracker/core)
// away from HTTP and from the wall clock: a Runner moves the core's clock to
// the time of each request it is given and expires peers on the core's
// interval as the live tracker does, and a Sink writes the events straight to
// Kafka in batches (no spool: a failed write stops the run, and a rerun of
// the same input is deduplicated downstream by event id). The simulator's
// fast path (sim/replay) and the announce-log importer (importer/announces)
// both drive the core through it.
package offline

import (
	"time"

	"github.com/ratioguard/ratioguard/tracker/core"
)

// Clock is the core's clock: the time of the request being run.
type Clock struct{ now time.Time }

// Now implements core.Clock.
func (c *Clock) Now() time.Time { return c.now }

// Runner drives one core on a clock set by the caller. Not safe for
// concurrent use: the order of Announce calls is the order of the events.
type Runner struct {
	Core       *core.Core
	clock      *Clock
	interval   time.Duration
	nextExpire time.Time
}

// NewRunner builds a core with cfg and policy whose clock starts at start
// and whose events go to sink. When sink is a *Sink and cfg has no event
// pool, the core and the sink share one (the sink gives each event back once
// it is encoded).
func NewRunner(cfg core.Config, policy core.Policy, sink core.Sink, start time.Time) *Runner {
	if s, ok := sink.(*Sink); ok && cfg.Events == nil && s.Recycle == nil {
		cfg.Events = core.NewEventPool()
		s.Recycle = cfg.Events.Put
	}
	clock := &Clock{now: start}
	c := core.New(cfg, policy, sink, clock)
	iv := c.Config().Interval
	return &Runner{Core: c, clock: clock, interval: iv, nextExpire: start.Add(iv)}
}

// Now is the clock's time.
func (r *Runner) Now() time.Time { return r.clock.now }

// Announce sets the clock to t, expires peers when an interval has passed
// since the last expiry, and runs r through the core into ans. t earlier
// than the clock leaves the clock where it is (the core's time never goes
// back).
func (r *Runner) Announce(t time.Time, req *core.Request, ans *core.Answer) {
	if t.After(r.clock.now) {
		r.clock.now = t
	}
	if !r.clock.now.Before(r.nextExpire) {
		r.Core.Expire()
		r.nextExpire = r.clock.now.Add(r.interval)
	}
	r.Core.Announce(req, ans)
}
