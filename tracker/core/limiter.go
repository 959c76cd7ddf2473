package core

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// badKeyLimiter counts unknown passkeys per source — an IPv4 address, or the
// /64 of an IPv6 address (one subscriber's network: a guesser rotating its
// interface identifiers is one source) — and blocks a source that sent too
// many within a window. A blocked source is refused only for passkeys the
// tracker does not know: members behind the same NAT address or /64 as a
// guesser keep announcing (the core looks the passkey up first).
type badKeyLimiter struct {
	limit  int
	window uint32 // seconds
	mu     sync.Mutex
	counts map[netip.Addr]badKeyCount
	size   atomic.Int32 // len(counts), read without the lock on the hot path
}

type badKeyCount struct {
	start uint32
	n     int
}

func newBadKeyLimiter(limit int, window uint32) *badKeyLimiter {
	return &badKeyLimiter{limit: limit, window: window, counts: map[netip.Addr]badKeyCount{}}
}

// limitSource is the key addr is counted under: itself for IPv4, its /64
// for IPv6.
func limitSource(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// blocked reports whether addr's source is over the limit now.
func (l *badKeyLimiter) blocked(addr netip.Addr, now uint32) bool {
	if l.size.Load() == 0 {
		return false
	}
	l.mu.Lock()
	c, ok := l.counts[limitSource(addr)]
	l.mu.Unlock()
	return ok && c.n >= l.limit && now-c.start < l.window
}

// bad records an unknown passkey from addr.
func (l *badKeyLimiter) bad(addr netip.Addr, now uint32) {
	addr = limitSource(addr)
	l.mu.Lock()
	c := l.counts[addr]
	if c.n == 0 || now-c.start >= l.window {
		c = badKeyCount{start: now}
	}
	c.n++
	l.counts[addr] = c
	l.size.Store(int32(len(l.counts)))
	l.mu.Unlock()
}

// expire forgets windows that ended.
func (l *badKeyLimiter) expire(now uint32) {
	l.mu.Lock()
	for a, c := range l.counts {
		if now-c.start >= l.window {
			delete(l.counts, a)
		}
	}
	l.size.Store(int32(len(l.counts)))
	l.mu.Unlock()
}
