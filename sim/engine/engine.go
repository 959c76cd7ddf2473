// Package engine owns the simulated site's behaviour over time: agents coming
// online and going to sleep, grabbing torrents by popularity, seeding for a
// while, restarting their clients, changing addresses and travelling; the
// swarm transfer model (per tick, every byte a peer uploads is downloaded by
// another peer of the same swarm); and what each agent reports to the tracker,
// honestly or not. It emits announce requests in time order, one batch per
// tick. It is deterministic: the same population and seed give the same
// batches.
package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

// Emit receives the announces of one tick sorted by time. The slice is reused
// after Emit returns.
type Emit func(ctx context.Context, batch []clients.Announce) error

// Clock paces the run: replay returns at once, live mode sleeps until the
// wall clock reaches t.
type Clock interface {
	WaitUntil(ctx context.Context, t time.Time) error
}

// Instant is the clock of replays: simulated time does not wait.
type Instant struct{}

// WaitUntil returns at once unless ctx is done.
func (Instant) WaitUntil(ctx context.Context, _ time.Time) error { return ctx.Err() }

// Options tune a run.
type Options struct {
	// FlushAtEnd makes every running client shut down cleanly at the end
	// (one last `stopped` each), so every transferred byte is reported.
	FlushAtEnd bool
}

// Stats counts what a run did.
type Stats struct {
	Ticks       int64
	Announces   int64
	Started     int64
	Completed   int64
	Stopped     int64
	LostStopped int64
	Restarts    int64
	Grabs       int64
	TrueBytes   int64 // bytes really moved between peers
}

// SwarmTotal is the true traffic of one torrent's swarm over the run.
type SwarmTotal struct {
	Torrent  int
	Uploaded int64
	Download int64
}

// Engine runs one population.
type Engine struct {
	spec   *spec.Spec
	pop    *population.Population
	opts   Options
	r      *rand.Rand
	dt     time.Duration
	agents []*agentState
	swarms []*swarm
	heap   slotHeap
	seq    uint64
	out    []clients.Announce
	stats  Stats

	nextRelease int // index in pop.Torrents of the next release not yet seen
	popAt       time.Time
	popCum      []float64
	popIdx      []int
	colluders   []*pair
	sup, dem    []int64 // transfer scratch
}

// New prepares a run of the population built from s.
func New(s *spec.Spec, p *population.Population, opts Options) *Engine {
	e := &Engine{spec: s, pop: p, opts: opts, r: rand.New(rand.NewPCG(s.Seed, 0xe1e1)), dt: s.Tick}
	e.swarms = make([]*swarm, len(p.Torrents))
	for i, t := range p.Torrents {
		e.swarms[i] = &swarm{tor: t}
	}
	byMember := map[int]*agentState{}
	for _, a := range p.Agents {
		st := &agentState{a: a, byTorrent: map[int]*slot{}}
		if a.Client.PeerIDScope == clients.Forever {
			st.peerID = a.Client.NewPeerID(e.r)
			st.key = a.Client.NewKey(e.r, st.peerID)
		}
		e.agents = append(e.agents, st)
		if a.Behavior == population.Collude {
			if other, ok := byMember[a.Member.Partner.Index]; ok {
				e.colluders = append(e.colluders, &pair{x: other, y: st})
			} else {
				byMember[a.Member.Index] = st
			}
		}
	}
	for _, st := range e.agents {
		for _, ti := range st.a.InitialSeeds {
			sl := e.addSlot(st, ti, 0)
			sl.seedUntil = p.Start.Add(time.Duration(e.r.Float64() * 2 * float64(st.a.SeedTime)))
		}
	}
	for ; e.nextRelease < len(p.Torrents) && !p.Torrents[e.nextRelease].Created.After(p.Start); e.nextRelease++ {
	}
	return e
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats { return e.stats }

// SwarmTotals returns each swarm's true uploaded and downloaded bytes.
func (e *Engine) SwarmTotals() []SwarmTotal {
	out := make([]SwarmTotal, 0, len(e.swarms))
	for i, sw := range e.swarms {
		if sw.totalUp != 0 || sw.totalDown != 0 {
			out = append(out, SwarmTotal{Torrent: i, Uploaded: sw.totalUp, Download: sw.totalDown})
		}
	}
	return out
}

// Run simulates from the population's start to its end.
func (e *Engine) Run(ctx context.Context, clock Clock, emit Emit) error {
	for t := e.pop.Start; t.Before(e.pop.End); t = t.Add(e.dt) {
		end := t.Add(e.dt)
		if end.After(e.pop.End) {
			end = e.pop.End
		}
		e.tick(t, end)
		if end.Equal(e.pop.End) && e.opts.FlushAtEnd {
			e.flush(end)
		}
		if err := clock.WaitUntil(ctx, end); err != nil {
			return err
		}
		if err := e.emit(ctx, emit); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) emit(ctx context.Context, emit Emit) error {
	if len(e.out) == 0 {
		return nil
	}
	sort.SliceStable(e.out, func(i, j int) bool { return e.out[i].Time.Before(e.out[j].Time) })
	e.stats.Announces += int64(len(e.out))
	err := emit(ctx, e.out)
	e.out = e.out[:0]
	if err != nil {
		return fmt.Errorf("emit announces: %w", err)
	}
	return nil
}

func (e *Engine) tick(t, end time.Time) {
	e.stats.Ticks++
	if e.popCum == nil || t.Sub(e.popAt) >= time.Hour {
		e.refreshPopularity(t)
	}
	e.releases(t, end)
	frac := end.Sub(t).Hours() / 24 // fraction of a day this tick lasts
	for _, st := range e.agents {
		e.agentTick(st, t, end, frac)
	}
	for _, p := range e.colluders {
		e.collude(p, t, end)
	}
	secs := end.Sub(t).Seconds()
	for _, sw := range e.swarms {
		if len(sw.peers) > 0 {
			e.transfer(sw, secs, t, end)
		}
	}
	for len(e.heap) > 0 && e.heap[0].next.Before(end) {
		e.due(e.heap[0])
	}
}

// within returns a time inside the tick, to the second.
func (e *Engine) within(t, end time.Time) time.Time {
	span := end.Sub(t)
	if span <= time.Second {
		return t
	}
	return t.Add(time.Duration(e.r.Int64N(int64(span/time.Second))) * time.Second)
}

func (e *Engine) interval() time.Duration {
	j := e.spec.Jitter * (2*e.r.Float64() - 1)
	return time.Duration(float64(e.spec.Interval) * (1 + j)).Truncate(time.Second)
}

func (e *Engine) releases(t, end time.Time) {
	for ; e.nextRelease < len(e.pop.Torrents); e.nextRelease++ {
		tor := e.pop.Torrents[e.nextRelease]
		if !tor.Created.Before(end) {
			return
		}
		if tor.Uploader == nil {
			continue
		}
		st := e.agentOf(tor.Uploader)
		sl := e.addSlot(st, tor.Index, 0)
		sl.seedUntil = tor.Created.Add(3*24*time.Hour + 2*st.a.SeedTime)
		if st.online {
			e.activate(sl, maxTime(tor.Created, t))
		}
	}
}

func (e *Engine) agentOf(a *population.Agent) *agentState {
	// Agents are numbered from 1 in creation order.
	return e.agents[a.ID-1]
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// refreshPopularity recomputes the grab distribution: base weight times a
// release rush decaying with age, and a floor for old, dying torrents.
func (e *Engine) refreshPopularity(t time.Time) {
	e.popAt = t
	e.popCum, e.popIdx = e.popCum[:0], e.popIdx[:0]
	half := e.spec.Torrents.RushHalfLife.Hours()
	var total float64
	for i, tor := range e.pop.Torrents {
		if tor.Created.After(t) {
			break
		}
		age := t.Sub(tor.Created).Hours()
		f := 0.003
		if age < e.spec.Torrents.DeadAfter.Hours() {
			f = 0.03 + 30*math.Exp2(-age/half)
		}
		total += tor.Weight * f
		e.popCum = append(e.popCum, total)
		e.popIdx = append(e.popIdx, i)
	}
}

func (e *Engine) pickTorrent() int {
	if len(e.popCum) == 0 {
		return -1
	}
	v := e.r.Float64() * e.popCum[len(e.popCum)-1]
	i := sort.SearchFloat64s(e.popCum, v)
	if i >= len(e.popIdx) {
		i = len(e.popIdx) - 1
	}
	return e.popIdx[i]
}

func (e *Engine) online(a *population.Agent, t time.Time) bool {
	if !a.ActiveAt(t) {
		return false
	}
	if a.AlwaysOn {
		return true
	}
	h := float64(t.Unix()%86400) / 3600
	d := math.Mod(h-a.OnlineStart+24, 24)
	return d < a.OnlineHours
}

func (e *Engine) agentTick(st *agentState, t, end time.Time, frac float64) {
	a := st.a
	on := e.online(a, t)
	switch {
	case st.online && !on:
		e.shutdown(st, e.within(t, end), a.ActiveAt(t))
		st.online = false
		if !a.ActiveAt(t) {
			// The agent is gone for good (a cheat tool replaced the client, the
			// account was sold): forget its torrents.
			for _, sl := range st.slots {
				e.forget(sl)
			}
			st.slots = st.slots[:0]
		}
		return
	case !st.online && on:
		st.online = true
		e.startup(st, e.within(t, end))
	case !on:
		return
	}
	if a.RestartsPerDay > 0 && e.r.Float64() < a.RestartsPerDay*frac {
		e.stats.Restarts++
		at := e.within(t, end)
		keep := e.r.Float64() < e.spec.Behavior.KeepPeerID
		e.shutdown(st, at, true)
		e.restartSession(st, keep)
		e.startupKeeping(st, at.Add(time.Second), keep)
	}
	if e.spec.Behavior.IPChangePerDay > 0 && e.r.Float64() < e.spec.Behavior.IPChangePerDay*frac {
		st.ipEpoch++
	}
	switch a.Behavior {
	case population.NaiveFake:
		if len(st.slots) < a.MaxActive {
			if ti := e.pickTorrent(); ti >= 0 && st.byTorrent[ti] == nil {
				sl := e.addSlot(st, ti, 0)
				sl.seedUntil = t.Add(time.Duration(1+e.r.IntN(4)) * 24 * time.Hour)
				e.activate(sl, e.within(t, end))
			}
		}
		return
	case population.Collude:
		return
	}
	if a.GrabsPerDay > 0 && e.r.Float64() < a.GrabsPerDay*frac {
		e.grab(st, t, end)
	}
}

func (e *Engine) grab(st *agentState, t, end time.Time) {
	ti := e.pickTorrent()
	if ti < 0 || st.byTorrent[ti] != nil {
		return
	}
	if len(st.slots) >= st.a.MaxActive {
		// Make room: stop the seeding torrent held longest.
		var oldest *slot
		for _, sl := range st.slots {
			if sl.left == 0 && (oldest == nil || sl.completedAt.Before(oldest.completedAt)) {
				oldest = sl
			}
		}
		if oldest == nil {
			return
		}
		e.stop(oldest, e.within(t, end), false)
		e.removeSlot(oldest)
	}
	e.stats.Grabs++
	sl := e.addSlot(st, ti, e.pop.Torrents[ti].Size)
	sl.lastProgress = t
	e.activate(sl, e.within(t, end))
}
