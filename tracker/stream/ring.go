package stream

import "github.com/ratioguard/ratioguard/schemas/events"

// ring is the bounded in-memory queue: a FIFO of events in a fixed array.
type ring struct {
	buf     []*events.Announce
	head, n int
}

func newRing(size int) ring { return ring{buf: make([]*events.Announce, size)} }

// push appends ev; false when the ring is full.
func (r *ring) push(ev *events.Announce) bool {
	if r.n == len(r.buf) {
		return false
	}
	r.buf[(r.head+r.n)%len(r.buf)] = ev
	r.n++
	return true
}

// at returns the i-th oldest event.
func (r *ring) at(i int) *events.Announce { return r.buf[(r.head+i)%len(r.buf)] }

// drop removes the k oldest events.
func (r *ring) drop(k int) {
	for i := range k {
		r.buf[(r.head+i)%len(r.buf)] = nil
	}
	r.head = (r.head + k) % len(r.buf)
	r.n -= k
}
