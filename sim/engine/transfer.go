package engine

import (
	"time"
)

// transfer moves bytes inside one swarm for one tick. Every uploader offers
// its upload capacity (shared among its active torrents; a leecher offers in
// proportion to what it already has), every leecher asks for its download
// capacity (capped at what it still needs); the flow is the smaller of the two
// sums and is split in proportion on both sides, so the bytes uploaded in the
// swarm equal the bytes downloaded, exactly.
func (e *Engine) transfer(sw *swarm, secs float64, t, end time.Time) {
	n := len(sw.peers)
	e.sup = grow(e.sup, n)
	e.dem = grow(e.dem, n)
	var sumSup, sumDem int64
	demanders, lastDemander := 0, -1
	size := sw.tor.Size
	for i, sl := range sw.peers {
		st := sl.ag
		a := st.a
		if have := size - sl.left; have > 0 && st.nActive > 0 {
			s := float64(a.Up) / float64(st.nActive) * secs
			if sl.left > 0 {
				s *= float64(have) / float64(size)
			}
			e.sup[i] = int64(s)
		} else {
			e.sup[i] = 0
		}
		if sl.left > 0 && st.nLeech > 0 {
			d := int64(float64(a.Down) / float64(st.nLeech) * secs)
			e.dem[i] = min(d, sl.left)
			demanders++
			lastDemander = i
		} else {
			e.dem[i] = 0
		}
	}
	if demanders == 1 {
		// A lone leecher cannot download from itself.
		e.sup[lastDemander] = 0
	}
	for i := 0; i < n; i++ {
		sumSup += e.sup[i]
		sumDem += e.dem[i]
	}
	flow := min(sumSup, sumDem)
	if flow <= 0 {
		return
	}
	distribute(flow, e.sup[:n], sumSup)
	distribute(flow, e.dem[:n], sumDem)
	sw.totalUp += flow
	sw.totalDown += flow
	e.stats.TrueBytes += flow
	var done []int
	for i, sl := range sw.peers {
		sl.trueUp += e.sup[i]
		if d := e.dem[i]; d > 0 {
			sl.trueDown += d
			sl.left -= d
			sl.lastProgress = end
			if sl.left == 0 {
				done = append(done, i)
			}
		}
	}
	// Complete after the loop: completing may remove the slot from sw.peers.
	finished := make([]*slot, len(done))
	for k, i := range done {
		finished[k] = sw.peers[i]
	}
	for _, sl := range finished {
		e.complete(sl, e.within(t, end))
	}
}

func grow(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n, 2*n)
	}
	return s[:n]
}

// distribute scales caps (in place) to shares summing to exactly total, each
// at most its cap; sum is the sum of caps and total <= sum.
func distribute(total int64, caps []int64, sum int64) {
	if total == sum {
		return
	}
	ratio := float64(total) / float64(sum)
	var got int64
	orig := make([]int64, 0, 8)
	for i, c := range caps {
		orig = append(orig, c)
		v := int64(float64(c) * ratio)
		if v > c {
			v = c
		}
		caps[i] = v
		got += v
	}
	for i := 0; got < total && i < len(caps); i++ {
		add := min(total-got, orig[i]-caps[i])
		caps[i] += add
		got += add
	}
	for i := 0; got > total && i < len(caps); i++ {
		sub := min(got-total, caps[i])
		caps[i] -= sub
		got -= sub
	}
}
