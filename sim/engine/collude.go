package engine

import (
	"time"
)

// pair is a colluding pair: on an obscure torrent one claims to upload to the
// other, who claims to download the same bytes; then they swap roles on
// another torrent. Nothing really moves, so they stay out of the swarm model.
type pair struct {
	x, y     *agentState
	yUploads bool
	up, down *slot
	moved    int64
}

func (e *Engine) collude(p *pair, t, end time.Time) {
	if !p.x.online || !p.y.online {
		return
	}
	if p.up == nil || !p.up.active || !p.down.active {
		if p.up != nil {
			e.endRound(p, e.within(t, end))
		}
		ti := e.obscureTorrent(p)
		if ti < 0 {
			return
		}
		upper, downer := p.x, p.y
		if p.yUploads {
			upper, downer = p.y, p.x
		}
		size := e.pop.Torrents[ti].Size
		p.up, p.down, p.moved = e.addSlot(upper, ti, 0), e.addSlot(downer, ti, size), 0
		at := e.within(t, end)
		e.activate(p.up, at)
		e.activate(p.down, at.Add(time.Second))
		return
	}
	rate := upperRate(p)
	move := min(int64(rate*end.Sub(t).Seconds()), p.down.left)
	p.moved += move
	p.up.trueUp += move
	p.down.trueDown += move
	p.down.left -= move
	if p.down.left == 0 {
		e.complete(p.down, e.within(t, end))
		e.endRound(p, end.Add(-time.Second))
	}
}

func upperRate(p *pair) float64 { return float64(p.x.a.FakeRate) }

func (e *Engine) endRound(p *pair, at time.Time) {
	for _, sl := range []*slot{p.up, p.down} {
		if sl.active {
			e.stop(sl, at, false)
		}
		e.removeSlot(sl)
	}
	p.up, p.down = nil, nil
	p.yUploads = !p.yUploads
}

// obscureTorrent picks an existing torrent nobody is active in (a dead swarm
// hides the pair), or any torrent after a few tries.
func (e *Engine) obscureTorrent(p *pair) int {
	if len(e.popIdx) == 0 {
		return -1
	}
	var ti int
	for try := 0; try < 20; try++ {
		ti = e.popIdx[e.r.IntN(len(e.popIdx))]
		sw := e.swarms[ti]
		if sw.leechers+sw.seeders == 0 && p.x.byTorrent[ti] == nil && p.y.byTorrent[ti] == nil {
			return ti
		}
	}
	if p.x.byTorrent[ti] != nil || p.y.byTorrent[ti] != nil {
		return -1
	}
	return ti
}
