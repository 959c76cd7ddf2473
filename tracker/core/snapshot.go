package core

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"
	"time"
)

// Snapshot format (little-endian), written by WriteState and read by
// ReadState:
//
//	magic   "RGCORE01"
//	epoch   int64: Unix seconds of time 0 of the stored times below
//	blocks  one per swarm shard, then the user and limiter blocks:
//	  kind    byte: 'S' swarm shard, 'U' user shard, 'L' limiter, 'E' end
//	  length  uint32: bytes of the body
//	  body    (see appendSwarmShard, appendUserShard, appendLimiter)
//	crc     uint32: CRC-32C of every byte before it
//
// Each block is serialised under its shard's lock into memory and written
// after the lock is released, so a snapshot holds each lock for a memory
// copy only.
const (
	stateMagic = "RGCORE01"
	peerBytes  = 20 + 16 + 8 + 8 + 8 + 4 + 2 + 1
	altBytes   = 16 + 4 + 2 + 1
	locBytes   = 4 + 8 + 1 + 4
)

var (
	stateCRC = crc32.MakeTable(crc32.Castagnoli)
	// ErrBadState wraps every reason ReadState rejects its input.
	ErrBadState = errors.New("invalid tracker state snapshot")
)

// WriteState writes the swarms (sessions with their baselines, addresses
// and flags), the snatch counts, the members' locations and the
// bad-passkey limiter to w. It may run while announces are answered: each
// shard is copied under its lock, so the result is a consistent state of
// each shard, not of all of them at one instant.
func (c *Core) WriteState(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	crc := crc32.New(stateCRC)
	out := io.MultiWriter(bw, crc)
	var hdr [16]byte
	copy(hdr[:], stateMagic)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(c.epoch.Unix()))
	if _, err := out.Write(hdr[:]); err != nil {
		return fmt.Errorf("write tracker state: %w", err)
	}
	var buf []byte
	block := func(kind byte, fill func([]byte) []byte) error {
		buf = append(buf[:0], kind, 0, 0, 0, 0)
		buf = fill(buf)
		binary.LittleEndian.PutUint32(buf[1:], uint32(len(buf)-5))
		if _, err := out.Write(buf); err != nil {
			return fmt.Errorf("write tracker state: %w", err)
		}
		return nil
	}
	for i := range c.swarms.shards {
		sh := &c.swarms.shards[i]
		if err := block('S', func(b []byte) []byte {
			sh.mu.Lock()
			defer sh.mu.Unlock()
			return appendSwarmShard(b, sh, c.swarms)
		}); err != nil {
			return err
		}
	}
	for i := range c.users.shards {
		sh := &c.users.shards[i]
		if err := block('U', func(b []byte) []byte {
			sh.mu.Lock()
			defer sh.mu.Unlock()
			return appendUserShard(b, sh)
		}); err != nil {
			return err
		}
	}
	if err := block('L', c.limiter.appendTo); err != nil {
		return err
	}
	if err := block('E', func(b []byte) []byte { return b }); err != nil {
		return err
	}
	if err := binary.Write(bw, binary.LittleEndian, crc.Sum32()); err != nil {
		return fmt.Errorf("write tracker state: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write tracker state: %w", err)
	}
	return nil
}

// appendSwarmShard: torrents (uint32 count), each: id uint64, snatches
// uint32, sessions uint32, then per session its peer fields and, when
// flagHasAlt is set, its other-family address. Torrents with a snatch
// count and no swarm have 0 sessions.
func appendSwarmShard(b []byte, sh *swarmShard, st *swarmStore) []byte {
	n := len(sh.swarms)
	for id := range sh.snatches {
		if sh.swarms[id] == nil {
			n++
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for id, s := range sh.swarms {
		b = binary.LittleEndian.AppendUint64(b, id)
		b = binary.LittleEndian.AppendUint32(b, sh.snatches[id])
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s.seeders)+len(s.leechers)))
		for _, list := range [2][]peer{s.seeders, s.leechers} {
			for i := range list {
				b = appendPeer(b, s, &list[i], st)
			}
		}
	}
	for id, k := range sh.snatches {
		if sh.swarms[id] == nil {
			b = binary.LittleEndian.AppendUint64(b, id)
			b = binary.LittleEndian.AppendUint32(b, k)
			b = binary.LittleEndian.AppendUint32(b, 0)
		}
	}
	return b
}

func appendPeer(b []byte, s *swarm, p *peer, st *swarmStore) []byte {
	b = append(b, p.id[:]...)
	b = append(b, p.addr[:]...)
	b = binary.LittleEndian.AppendUint64(b, p.user)
	b = binary.LittleEndian.AppendUint64(b, p.up)
	b = binary.LittleEndian.AppendUint64(b, p.down)
	b = binary.LittleEndian.AppendUint32(b, p.seen)
	b = binary.LittleEndian.AppendUint16(b, p.port)
	b = append(b, p.flags&^flagUnindexed)
	if p.flags&flagHasAlt != 0 {
		a := s.alt[sessionHash(st.seed, p.user, &p.id)]
		b = append(b, a.addr[:]...)
		b = binary.LittleEndian.AppendUint32(b, a.seen)
		b = binary.LittleEndian.AppendUint16(b, a.port)
		b = append(b, boolByte(a.is4))
	}
	return b
}

// appendUserShard: members (uint32 count), each: id uint64, locations
// uint16, then per location v4, v6 prefix, flags (1 has4, 2 has6, 4
// exempt), seen.
func appendUserShard(b []byte, sh *userShard) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(sh.users)))
	for id, u := range sh.users {
		b = binary.LittleEndian.AppendUint64(b, id)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(u.locs)))
		for _, l := range u.locs {
			b = append(b, l.v4[:]...)
			b = append(b, l.v6[:]...)
			b = append(b, boolByte(l.has4)|boolByte(l.has6)<<1|boolByte(l.exempt)<<2)
			b = binary.LittleEndian.AppendUint32(b, l.seen)
		}
	}
	return b
}

// appendTo: addresses (uint32 count), each: 16 bytes, is4 byte, window
// start uint32, count uint32.
func (l *badKeyLimiter) appendTo(b []byte) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	b = binary.LittleEndian.AppendUint32(b, uint32(len(l.counts)))
	for a, k := range l.counts {
		a16 := a.As16()
		b = append(b, a16[:]...)
		b = append(b, boolByte(a.Is4()))
		b = binary.LittleEndian.AppendUint32(b, k.start)
		b = binary.LittleEndian.AppendUint32(b, uint32(k.n))
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// StateCounts is what ReadState loaded.
type StateCounts struct {
	Sessions, Torrents, Users int
}

// ReadState loads a snapshot written by WriteState into c, which must not
// have answered or learnt anything yet (call it before serving). Times are
// moved to c's epoch; a time before it becomes the epoch (set Config.Epoch
// to the snapshot's time or earlier to keep them). A snapshot that does not
// check (magic, lengths, CRC) is refused whole with ErrBadState and c is
// left empty.
func (c *Core) ReadState(r io.Reader) (StateCounts, error) {
	var cnt StateCounts
	data, err := io.ReadAll(r)
	if err != nil {
		return cnt, fmt.Errorf("read tracker state: %w", err)
	}
	if len(data) < 16+4 || string(data[:8]) != stateMagic {
		return cnt, fmt.Errorf("%w: not a snapshot (magic)", ErrBadState)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, stateCRC) != sum {
		return cnt, fmt.Errorf("%w: checksum mismatch (truncated or corrupt)", ErrBadState)
	}
	shift := int64(binary.LittleEndian.Uint64(body[8:])) - c.epoch.Unix()
	move := func(t uint32) uint32 {
		v := int64(t) + shift
		switch {
		case t == 0:
			return 0
		case v < 1:
			return 1
		case v > 1<<32-1:
			return 1<<32 - 1
		}
		return uint32(v)
	}
	d := stateDecoder{b: body[16:]}
	for !d.failed() {
		kind := d.byte()
		n := int(d.u32())
		blk := stateDecoder{b: d.take(n)}
		switch kind {
		case 'S':
			c.readSwarms(&blk, move, &cnt)
		case 'U':
			c.readUsers(&blk, move, &cnt)
		case 'L':
			c.readLimiter(&blk, move)
		case 'E':
			if !d.failed() && n == 0 && len(d.b) == 0 {
				return cnt, nil
			}
			d.fail()
		default:
			d.fail()
		}
		if blk.failed() || len(blk.b) != 0 {
			d.fail()
		}
	}
	c.swarms = newSwarmStore(len(c.swarms.shards))
	c.users = newUserStore(len(c.users.shards))
	c.limiter = newBadKeyLimiter(c.limiter.limit, c.limiter.window)
	return StateCounts{}, fmt.Errorf("%w: malformed block", ErrBadState)
}

func (c *Core) readSwarms(d *stateDecoder, move func(uint32) uint32, cnt *StateCounts) {
	for range d.u32() {
		id, snatches, n := d.u64(), d.u32(), d.u32()
		if d.failed() {
			return
		}
		sh := c.swarms.shard(id)
		sh.mu.Lock()
		if snatches > 0 {
			sh.snatches[id] = snatches
		}
		s := sh.swarms[id]
		if s == nil && n > 0 {
			s = newSwarm(c.swarms.leeching)
			sh.swarms[id] = s
			cnt.Torrents++
		}
		for range n {
			var p peer
			copy(p.id[:], d.take(20))
			copy(p.addr[:], d.take(16))
			p.user, p.up, p.down = d.u64(), d.u64(), d.u64()
			p.seen, p.port, p.flags = move(d.u32()), d.u16(), d.byte()&^flagUnindexed
			if d.failed() {
				break
			}
			h := sessionHash(c.swarms.seed, p.user, &p.id)
			if p.flags&flagHasAlt != 0 {
				var a altAddr
				copy(a.addr[:], d.take(16))
				a.seen, a.port, a.is4 = move(d.u32()), d.u16(), d.byte() != 0
				if s.alt == nil {
					s.alt = map[uint64]altAddr{}
				}
				s.alt[h] = a
			}
			if _, dup := s.find(h, p.user, &p.id); dup {
				d.fail() // a snapshot never holds a session twice
				break
			}
			s.insert(h, p, c.swarms.seed)
			cnt.Sessions++
		}
		sh.mu.Unlock()
	}
}

func (c *Core) readUsers(d *stateDecoder, move func(uint32) uint32, cnt *StateCounts) {
	for range d.u32() {
		id, n := d.u64(), d.u16()
		if d.failed() {
			return
		}
		st := &userState{locs: make([]location, 0, n)}
		for range n {
			var l location
			copy(l.v4[:], d.take(4))
			copy(l.v6[:], d.take(8))
			f := d.byte()
			l.has4, l.has6, l.exempt = f&1 != 0, f&2 != 0, f&4 != 0
			l.seen = move(d.u32())
			st.locs = append(st.locs, l)
		}
		sh := &c.users.shards[id%uint64(len(c.users.shards))]
		sh.mu.Lock()
		sh.users[id] = st
		sh.mu.Unlock()
		cnt.Users++
	}
}

func (c *Core) readLimiter(d *stateDecoder, move func(uint32) uint32) {
	l := c.limiter
	l.mu.Lock()
	defer l.mu.Unlock()
	for range d.u32() {
		a := netip.AddrFrom16([16]byte(d.take(16)))
		if d.byte() != 0 {
			a = a.Unmap()
		}
		start, n := move(d.u32()), int(d.u32())
		if d.failed() {
			return
		}
		l.counts[a] = badKeyCount{start: start, n: n}
	}
	l.size.Store(int32(len(l.counts)))
}

// stateDecoder reads fixed-size fields; past the end it returns zeros and
// failed reports true.
type stateDecoder struct {
	b   []byte
	bad bool
}

var zero16 [16]byte

func (d *stateDecoder) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) {
		d.bad = true
		if n >= 0 && n <= len(zero16) {
			return zero16[:n]
		}
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *stateDecoder) fail()        { d.bad = true }
func (d *stateDecoder) failed() bool { return d.bad }
func (d *stateDecoder) byte() byte {
	if b := d.take(1); len(b) == 1 {
		return b[0]
	}
	return 0
}
func (d *stateDecoder) u16() uint16 { return binary.LittleEndian.Uint16(d.take(2)) }
func (d *stateDecoder) u32() uint32 { return binary.LittleEndian.Uint32(d.take(4)) }
func (d *stateDecoder) u64() uint64 {
	b := d.take(8)
	if len(b) != 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// Epoch is time 0 of the core's stored times (for tests and logs).
func (c *Core) Epoch() time.Time { return c.epoch }
