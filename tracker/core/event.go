package core

import (
	"encoding/binary"
	"sync"
	"time"
	"unsafe"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// eventBox holds an event and the bytes its fields point to, so that one
// allocation makes an event that owns all its memory.
type eventBox struct {
	ev     events.Announce
	promo  events.Promotion
	id     [events.IDLen]byte
	prod   [8]byte
	ih     [20]byte
	pid    [20]byte
	ip     [16]byte
	key    [16]byte
	params [16]string // qBittorrent (libtorrent) sends up to 16 parameters
}

// EventPool recycles the events a Core publishes, so that the request path
// allocates no event once the pool is warm. Give it to the Core
// (Config.Events) and give Put to the sink (tracker/stream's
// Config.Recycle): the sink must call Put exactly once per event, after it
// no longer reads it, or never. Without a pool every event is a fresh
// allocation, which a sink that keeps events (tests, the simulator) needs.
type EventPool struct{ p sync.Pool }

// NewEventPool returns an empty pool.
func NewEventPool() *EventPool { return &EventPool{} }

// Put hands back an event published by a Core that uses this pool.
func (p *EventPool) Put(ev *events.Announce) {
	if ev == nil {
		return
	}
	// ev is the first field of the eventBox newEvent made it in.
	b := (*eventBox)(unsafe.Pointer(ev))
	*b = eventBox{}
	p.p.Put(b)
}

func (p *EventPool) get() *eventBox {
	if p == nil {
		return &eventBox{}
	}
	if b, ok := p.p.Get().(*eventBox); ok {
		return b
	}
	return &eventBox{}
}

// newEvent fills what every event carries, accepted or refused.
func (c *Core) newEvent(now time.Time, r *Request) *events.Announce {
	b := c.cfg.Events.get()
	ev := &b.ev
	seq := c.seq.Add(1)
	// Same bytes as events.ID(c.producer, seq), without its allocation.
	copy(b.id[:8], c.producer[:])
	binary.BigEndian.PutUint64(b.id[8:], seq)
	b.prod = c.producer
	ev.SchemaVersion = events.SchemaVersion
	ev.EventId = b.id[:]
	ev.ProducerId = b.prod[:]
	ev.Sequence = seq
	ev.TimeUnixNano = now.UnixNano()
	ev.InfoHash = ownBytes(b.ih[:], r.InfoHash)
	ev.PeerId = ownBytes(b.pid[:], r.PeerID)
	if r.Addr.IsValid() {
		if r.Addr.Is4() {
			a := r.Addr.As4()
			copy(b.ip[:], a[:])
			ev.Ip = b.ip[:4]
		} else {
			b.ip = r.Addr.As16()
			ev.Ip = b.ip[:]
		}
	}
	ev.Port = uint32(r.Port)
	ev.UserAgent = r.UserAgent
	if n := len(r.Key); n > 0 && n <= len(b.key) {
		copy(b.key[:], r.Key)
		ev.Key = unsafe.String(&b.key[0], n) // b.key is never written again
	} else if n > 0 {
		ev.Key = string(r.Key)
	}
	if n := len(r.ParamOrder); n > 0 {
		if n <= len(b.params) {
			copy(b.params[:], r.ParamOrder)
			ev.ParamOrder = b.params[:n:n]
		} else {
			ev.ParamOrder = append([]string(nil), r.ParamOrder...)
		}
	}
	ev.Event = r.Event
	if r.NumWant > 0 {
		ev.Numwant = uint32(min(r.NumWant, 1<<31))
	}
	ev.Uploaded, ev.Downloaded, ev.Left, ev.Corrupt = r.Uploaded, r.Downloaded, r.Left, r.Corrupt
	ev.Promotion = &b.promo
	return ev
}

// ownBytes copies src into buf when it fits (the usual 20 bytes), else into a
// fresh slice (malformed requests only).
func ownBytes(buf, src []byte) []byte {
	if len(src) == 0 {
		return nil
	}
	if len(src) == len(buf) {
		copy(buf, src)
		return buf
	}
	return append([]byte(nil), src...)
}
