package core

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// badKeyLimiter counts unknown passkeys per source address and blocks an
// address that sent too many within a window.
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

// blocked reports whether addr is over the limit now.
func (l *badKeyLimiter) blocked(addr netip.Addr, now uint32) bool {
	if l.size.Load() == 0 {
		return false
	}
	l.mu.Lock()
	c, ok := l.counts[addr]
	l.mu.Unlock()
	return ok && c.n >= l.limit && now-c.start < l.window
}

// bad records an unknown passkey from addr.
func (l *badKeyLimiter) bad(addr netip.Addr, now uint32) {
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
