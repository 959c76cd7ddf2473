package engine

import (
	"container/heap"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/population"
)

// giveUp is how long a leecher waits without progress before dropping a
// torrent (a dead swarm).
const giveUp = 3 * 24 * time.Hour

type agentState struct {
	a         *population.Agent
	online    bool
	peerID    [20]byte // session (or forever) peer_id for clients that use one per process
	key       string   // session (or forever) key
	slots     []*slot
	byTorrent map[int]*slot
	ipEpoch   int
	nActive   int // active slots in the real transfer model
	nLeech    int // of which leeching
}

// slot is an agent's hold on one torrent; while active it is a running peer
// session with its own counters.
type slot struct {
	ag  *agentState
	sw  *swarm
	seq uint64

	left         int64
	completedAt  time.Time
	seedUntil    time.Time
	lastProgress time.Time

	active   bool
	peerID   [20]byte
	key      string
	trueUp   int64 // session bytes really uploaded (colluders: claimed)
	trueDown int64
	fakeUp   int64
	lastAnn  time.Time
	lastEmit time.Time // time of the last announce emitted (either family)
	next     time.Time
	hidx     int // index in the announce heap, -1 when absent
	swIdx    int // index in swarm.peers, -1 when absent
}

type swarm struct {
	tor       *population.Torrent
	peers     []*slot // active slots in the real transfer model
	leechers  int     // every active slot with left > 0 (what the tracker would count)
	seeders   int
	totalUp   int64
	totalDown int64
}

func (e *Engine) addSlot(st *agentState, ti int, left int64) *slot {
	e.seq++
	sl := &slot{ag: st, sw: e.swarms[ti], seq: e.seq, left: left, hidx: -1, swIdx: -1}
	st.slots = append(st.slots, sl)
	st.byTorrent[ti] = sl
	return sl
}

func (e *Engine) removeSlot(sl *slot) {
	if sl.active {
		e.deactivate(sl)
	}
	st := sl.ag
	delete(st.byTorrent, sl.sw.tor.Index)
	for i, x := range st.slots {
		if x == sl {
			st.slots = append(st.slots[:i], st.slots[i+1:]...)
			break
		}
	}
}

func (e *Engine) forget(sl *slot) {
	if sl.active {
		e.deactivate(sl)
	}
	delete(sl.ag.byTorrent, sl.sw.tor.Index)
}

// restartSession draws the per-process peer_id and key of a new client
// process (kept when the restart keeps the peer_id).
func (e *Engine) restartSession(st *agentState, keep bool) {
	c := st.a.Client
	if c.PeerIDScope == clients.Forever || keep && st.key != "" {
		return
	}
	st.peerID = c.NewPeerID(e.r)
	st.key = c.NewKey(e.r, st.peerID)
}

func (e *Engine) startup(st *agentState, at time.Time) {
	e.restartSession(st, false)
	e.startupKeeping(st, at, false)
}

func (e *Engine) startupKeeping(st *agentState, at time.Time, keep bool) {
	for i := 0; i < len(st.slots); i++ {
		sl := st.slots[i]
		if sl.left == 0 && !sl.seedUntil.IsZero() && !at.Before(sl.seedUntil) && st.a.Behavior != population.Collude {
			e.removeSlot(sl)
			i--
			continue
		}
		e.activateKeeping(sl, at, keep)
	}
}

func (e *Engine) shutdown(st *agentState, at time.Time, lossy bool) {
	for _, sl := range st.slots {
		if sl.active {
			e.stop(sl, at, lossy)
		}
	}
}

func (e *Engine) activate(sl *slot, at time.Time) { e.activateKeeping(sl, at, false) }

func (e *Engine) activateKeeping(sl *slot, at time.Time, keep bool) {
	if sl.active {
		return
	}
	st, c := sl.ag, sl.ag.a.Client
	if st.key == "" {
		e.restartSession(st, false)
	}
	switch {
	case c.PeerIDScope != clients.PerTorrent:
		sl.peerID = st.peerID
	case !keep || sl.key == "":
		sl.peerID = c.NewPeerID(e.r)
	}
	switch {
	case c.KeyStyle == clients.KeyPeerIDTail8:
		sl.key = c.NewKey(e.r, sl.peerID)
	case c.KeyScope != clients.PerTorrent:
		sl.key = st.key
	case !keep || sl.key == "":
		sl.key = c.NewKey(e.r, sl.peerID)
	}
	sl.active = true
	sl.trueUp, sl.trueDown, sl.fakeUp = 0, 0, 0
	sl.lastAnn = at
	if sl.lastProgress.Before(at) && sl.left > 0 {
		sl.lastProgress = at
	}
	if sl.left > 0 {
		sl.sw.leechers++
	} else {
		sl.sw.seeders++
	}
	if st.a.Behavior.RealTransfer() {
		sl.swIdx = len(sl.sw.peers)
		sl.sw.peers = append(sl.sw.peers, sl)
		st.nActive++
		if sl.left > 0 {
			st.nLeech++
		}
	}
	e.stats.Started++
	at = e.announce(sl, clients.EventStarted, at)
	sl.next = at.Add(e.interval())
	heap.Push(&e.heap, sl)
}

func (e *Engine) deactivate(sl *slot) {
	st := sl.ag
	sl.active = false
	if sl.hidx >= 0 {
		heap.Remove(&e.heap, sl.hidx)
	}
	if sl.left > 0 {
		sl.sw.leechers--
	} else {
		sl.sw.seeders--
	}
	if sl.swIdx >= 0 {
		peers := sl.sw.peers
		last := peers[len(peers)-1]
		peers[sl.swIdx] = last
		last.swIdx = sl.swIdx
		sl.sw.peers = peers[:len(peers)-1]
		sl.swIdx = -1
		st.nActive--
		if sl.left > 0 {
			st.nLeech--
		}
	}
}

// stop ends a peer session; with lossy, the `stopped` may never arrive.
func (e *Engine) stop(sl *slot, at time.Time, lossy bool) {
	if lossy && e.r.Float64() < e.spec.Behavior.LostStopped {
		e.stats.LostStopped++
	} else {
		e.stats.Stopped++
		e.announce(sl, clients.EventStopped, at)
	}
	e.deactivate(sl)
}

// complete marks a leecher done at `at`.
func (e *Engine) complete(sl *slot, at time.Time) {
	st := sl.ag
	sl.completedAt = at
	sl.sw.leechers--
	sl.sw.seeders++
	if sl.swIdx >= 0 {
		st.nLeech--
	}
	b := st.a.Behavior
	if b != population.Ghost {
		e.stats.Completed++
		e.announce(sl, clients.EventCompleted, at)
	}
	if b == population.LeechOnly {
		e.stop(sl, at.Add(time.Second), false)
		e.removeSlot(sl)
		return
	}
	sl.seedUntil = at.Add(time.Duration(float64(st.a.SeedTime) * (0.5 + e.r.Float64())))
}

// due handles the slot at the top of the announce heap.
func (e *Engine) due(sl *slot) {
	at := sl.next
	b := sl.ag.a.Behavior
	if b != population.Collude {
		if sl.left == 0 && !sl.seedUntil.IsZero() && !at.Before(sl.seedUntil) {
			e.stop(sl, at, false)
			e.removeSlot(sl)
			return
		}
		if sl.left > 0 && at.Sub(sl.lastProgress) > giveUp {
			e.stop(sl, at, false)
			e.removeSlot(sl)
			return
		}
	}
	at = e.announce(sl, clients.EventNone, at)
	sl.next = at.Add(e.interval())
	heap.Fix(&e.heap, sl.hidx)
}

// flush shuts every running client down cleanly.
func (e *Engine) flush(at time.Time) {
	for _, st := range e.agents {
		for _, sl := range st.slots {
			if sl.active {
				e.stop(sl, at, false)
			}
		}
	}
}

// announce appends what the slot's client sends at `at` (twice for dual
// stack) and returns the time used: never before the slot's previous
// announce, so a slot's announces keep their causal order after the tick's
// sort by time.
func (e *Engine) announce(sl *slot, ev clients.Event, at time.Time) time.Time {
	if !sl.lastEmit.IsZero() && !at.After(sl.lastEmit) {
		at = sl.lastEmit.Add(time.Second)
	}
	sl.lastEmit = at
	st := sl.ag
	a := st.a
	tor := sl.sw.tor
	up, down, left := sl.trueUp, sl.trueDown, sl.left
	elapsed := at.Sub(sl.lastAnn).Seconds()
	switch a.Behavior {
	case population.Ghost:
		down = 0
		if left > 0 {
			left = tor.Size
		}
	case population.CarefulFake:
		others := sl.sw.leechers
		if sl.left > 0 {
			others--
		}
		if others > 0 && elapsed > 0 {
			sl.fakeUp += int64(float64(a.FakeRate) * elapsed * (0.6 + 0.8*e.r.Float64()))
		}
		up += sl.fakeUp
	case population.NaiveFake:
		if elapsed > 0 {
			sl.fakeUp += int64(float64(a.FakeRate) * elapsed)
		}
		up, down, left = sl.fakeUp, 0, 0
	}
	sl.lastAnn = at
	net := a.NetworkAt(at)
	ann := clients.Announce{
		Time: at, Passkey: a.Member.Passkey, InfoHash: tor.InfoHash, PeerID: sl.peerID,
		IP: net.V4At(st.ipEpoch), Port: a.Port,
		Uploaded: uint64(up), Downloaded: uint64(down), Left: uint64(left),
		Event: ev, Key: sl.key, Client: a.Client,
		UserID: a.Member.ID, TorrentID: tor.ID, AgentID: a.ID,
	}
	e.out = append(e.out, ann)
	if a.DualStack && net.HasV6 {
		ann.IP = a.V6At(net, at)
		ann.Time = at.Add(time.Second)
		sl.lastEmit = ann.Time
		e.out = append(e.out, ann)
	}
	return at
}

// slotHeap orders running sessions by their next regular announce.
type slotHeap []*slot

func (h slotHeap) Len() int { return len(h) }
func (h slotHeap) Less(i, j int) bool {
	if !h[i].next.Equal(h[j].next) {
		return h[i].next.Before(h[j].next)
	}
	return h[i].seq < h[j].seq
}
func (h slotHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *slotHeap) Push(x any) {
	sl := x.(*slot)
	sl.hidx = len(*h)
	*h = append(*h, sl)
}
func (h *slotHeap) Pop() any {
	old := *h
	sl := old[len(old)-1]
	old[len(old)-1] = nil
	sl.hidx = -1
	*h = old[:len(old)-1]
	return sl
}
