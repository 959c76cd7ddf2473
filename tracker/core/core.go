package core

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Core answers announces. It is safe for concurrent use.
type Core struct {
	cfg      Config
	policy   Policy
	sink     Sink
	clock    Clock
	epoch    time.Time // store times are seconds since epoch
	producer [8]byte
	seq      atomic.Uint64
	swarms   *swarmStore
	users    *userStore
	limiter  *badKeyLimiter
	blocked  [65536 / 64]uint64 // port bitmap
	// interval and jitter told to clients (nanoseconds); the site may change
	// them at run time (SetInterval).
	interval, jitter atomic.Int64

	msgTooOften, msgTooManyIPs, msgTooManyPeers string // formatted once
}

// New builds a core. sink receives every event; clock tells the time.
func New(cfg Config, policy Policy, sink Sink, clock Clock) *Core {
	cfg = cfg.withDefaults()
	c := &Core{
		cfg:     cfg,
		policy:  policy,
		sink:    sink,
		clock:   clock,
		epoch:   epoch(cfg.Epoch, clock.Now()),
		swarms:  newSwarmStore(256),
		users:   newUserStore(64),
		limiter: newBadKeyLimiter(cfg.BadPasskeyLimit, uint32(cfg.BadPasskeyWindow/time.Second)),
	}
	_, _ = crand.Read(c.producer[:])
	c.msgTooOften = fmt.Sprintf(msgTooOften, int(cfg.MinInterval/time.Second))
	c.msgTooManyIPs = fmt.Sprintf(msgTooManyIPs, cfg.MaxIPs)
	c.msgTooManyPeers = fmt.Sprintf(msgTooManyPeers, cfg.MaxPeers)
	for _, p := range cfg.BlockedPorts {
		c.blocked[p/64] |= 1 << (p % 64)
	}
	c.interval.Store(int64(cfg.Interval))
	c.jitter.Store(int64(cfg.Jitter))
	return c
}

// SetInterval changes the announce interval and its random extra told to
// clients from now on (a site's control request). Peers expire after twice
// the larger of this interval and the configured one.
func (c *Core) SetInterval(interval, jitter time.Duration) error {
	if interval < time.Second {
		return fmt.Errorf("announce interval %v is below 1 s", interval)
	}
	if jitter < 0 {
		return fmt.Errorf("announce jitter %v is negative", jitter)
	}
	c.interval.Store(int64(interval))
	c.jitter.Store(int64(jitter))
	return nil
}

// Intervals returns the announce interval and jitter in force.
func (c *Core) Intervals() (interval, jitter time.Duration) {
	return time.Duration(c.interval.Load()), time.Duration(c.jitter.Load())
}

// epoch is one second before the earlier of since (when set) and now, on
// a whole second: store times count seconds from it and are never 0, and
// two cores (a restart, another instance) agree on which second an event
// falls in.
func epoch(since, now time.Time) time.Time {
	if !since.IsZero() && since.Before(now) {
		now = since
	}
	return now.Add(-time.Second).Truncate(time.Second)
}

// ProducerID is this process's random producer id (the first 8 bytes of every event id).
func (c *Core) ProducerID() [8]byte { return c.producer }

// Config returns the configuration in force (defaults applied).
func (c *Core) Config() Config { return c.cfg }

func (c *Core) secs(t time.Time) uint32 {
	d := t.Sub(c.epoch)
	if d < time.Second {
		return 1
	}
	return uint32(d / time.Second)
}

func (c *Core) expiry() uint32 {
	return uint32(2 * max(c.cfg.Interval, time.Duration(c.interval.Load())) / time.Second)
}

// Messages told to clients (user-understandable) per refusal.
const (
	msgRateLimited   = "too many announces with an unknown passkey from your address: wait a minute and download the .torrent again from the site"
	msgUnknownKey    = "unknown passkey: download the .torrent again from the site"
	msgNotRegistered = "this torrent is not registered on this tracker"
	msgUnregistered  = "unregistered torrent"
	msgTooManyIPs    = "you are active from too many locations at once (limit %d): stop the client on another location, or declare your seedbox on the site"
	msgTooManyPeers  = "too many of your clients are on this torrent (limit %d): stop one of them"
	msgNoLeeching    = "leeching is disabled on your account: you may still seed, but not download"
	msgTooOften      = "you are announcing too often: the minimum interval is %d s"
	// msgDownloadSlots is UNIT3D-Announce's text for the same limit.
	msgDownloadSlots = "Download slot limit reached"
)

func (c *Core) refuse(ans *Answer, ev *events.Announce, code events.Refusal, msg string) {
	ans.Failure, ans.Refusal = msg, code
	ev.Result = events.Result_RESULT_REFUSED
	ev.Refusal = code
	ev.RefusalMessage = msg
	ev.Promotion = nil
	c.sink.Publish(ev)
}

// Announce answers r into ans and publishes the announce's event.
func (c *Core) Announce(r *Request, ans *Answer) {
	ans.reset()
	now := c.clock.Now()
	ev := c.newEvent(now, r)
	t := c.secs(now)
	if r.Malformed != "" {
		c.refuse(ans, ev, events.Refusal_REFUSAL_MALFORMED, r.Malformed)
		return
	}
	if !r.Addr.IsValid() {
		c.refuse(ans, ev, events.Refusal_REFUSAL_MALFORMED, "the tracker could not determine your IP address")
		return
	}
	user := c.policy.UserByPasskey(r.Passkey)
	if user == nil {
		// A blocked source learns nothing more; a valid passkey from it
		// (a member behind the guesser's NAT) is served.
		if c.limiter.blocked(r.Addr, t) {
			c.refuse(ans, ev, events.Refusal_REFUSAL_RATE_LIMITED, msgRateLimited)
			return
		}
		c.limiter.bad(r.Addr, t)
		c.refuse(ans, ev, events.Refusal_REFUSAL_UNKNOWN_PASSKEY, msgUnknownKey)
		return
	}
	ev.UserId = user.ID
	if !user.Enabled {
		c.refuse(ans, ev, events.Refusal_REFUSAL_USER_DISABLED, disabledMessage(user))
		return
	}
	if len(r.InfoHash) != 20 || len(r.PeerID) != 20 {
		c.refuse(ans, ev, events.Refusal_REFUSAL_MALFORMED, "info_hash and peer_id must be 20 bytes each")
		return
	}
	tor := c.policy.TorrentByInfoHash([20]byte(r.InfoHash))
	if tor == nil {
		c.refuse(ans, ev, events.Refusal_REFUSAL_TORRENT_UNKNOWN, msgNotRegistered)
		return
	}
	ev.TorrentId = tor.ID
	if tor.Deleted {
		c.refuse(ans, ev, events.Refusal_REFUSAL_TORRENT_DELETED, deletedMessage(tor, now))
		return
	}
	if tor.Unavailable != "" {
		c.refuse(ans, ev, events.Refusal_REFUSAL_TORRENT_UNKNOWN, tor.Unavailable)
		return
	}
	if msg := c.policy.Clients().Check(r.PeerID, r.UserAgent, r.Headers); msg != "" {
		c.refuse(ans, ev, events.Refusal_REFUSAL_CLIENT_BANNED, msg)
		return
	}
	if c.blocked[r.Port/64]&(1<<(r.Port%64)) != 0 {
		c.refuse(ans, ev, events.Refusal_REFUSAL_PORT_BANNED, fmt.Sprintf("port %d is not allowed: choose another listening port in your client", r.Port))
		return
	}
	if r.Left > 0 && !user.CanLeech && r.Event != events.Event_EVENT_STOPPED {
		c.refuse(ans, ev, events.Refusal_REFUSAL_LEECHING_DISABLED, msgNoLeeching)
		return
	}
	if code, msg := c.apply(r, ans, ev, user, tor, t); code != events.Refusal_REFUSAL_NONE {
		c.refuse(ans, ev, code, msg)
		return
	}
	c.credit(ev, user, tor, now)
	ans.Interval = int(c.interval.Load() / int64(time.Second))
	if j := c.jitter.Load(); j > 0 {
		ans.Interval += int(rand.Int64N(j) / int64(time.Second))
	}
	ans.MinInterval = int(c.cfg.MinInterval / time.Second)
	ev.Result = events.Result_RESULT_ACCEPTED
	c.sink.Publish(ev)
}

func disabledMessage(u *User) string {
	if u.DisabledReason == "" {
		return "your account is disabled"
	}
	return "your account is disabled: " + u.DisabledReason
}

// deletedMessage is Ocelot's answer for a deleted torrent: its reason for
// DeletedReasonFor after the deletion, then none.
func deletedMessage(t *Torrent, now time.Time) string {
	if t.DeletedReason == "" || (!t.DeletedAt.IsZero() && !now.Before(t.DeletedAt.Add(DeletedReasonFor))) {
		return msgUnregistered
	}
	return msgUnregistered + ": " + t.DeletedReason
}

// apply updates the swarm and the session, fills the accounting fields of ev
// and the peers of ans. It returns a refusal code when the announce may not
// join the swarm.
func (c *Core) apply(r *Request, ans *Answer, ev *events.Announce, user *User, tor *Torrent, t uint32) (events.Refusal, string) {
	pid := (*[20]byte)(r.PeerID)
	h := sessionHash(c.swarms.seed, user.ID, pid)
	addr, is4 := storedAddr(r.Addr)
	stopped := r.Event == events.Event_EVENT_STOPPED
	seeder := r.Left == 0
	cutoff := c.cutoff(t)

	sh := c.swarms.shard(tor.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.swarms[tor.ID]
	if s == nil {
		if stopped {
			ans.Complete, ans.Incomplete = 0, 0
			return events.Refusal_REFUSAL_NONE, ""
		}
		s = newSwarm(c.swarms.leeching)
		sh.swarms[tor.ID] = s
	}
	ev.Seeders, ev.Leechers = uint32(len(s.seeders)), uint32(len(s.leechers))
	pos, found := s.find(h, user.ID, pid)

	// Download slots: a leech session the member does not hold yet (a new
	// one, or a seeding one going back to leeching) needs a free slot.
	if !stopped && !seeder && user.DownloadSlots != nil && (!found || s.at(pos).flags&flagSeeder != 0) &&
		c.swarms.leeching.get(user.ID) >= int(*user.DownloadSlots) {
		c.dropIfEmpty(sh, tor.ID, s)
		return events.Refusal_REFUSAL_DOWNLOAD_SLOTS, msgDownloadSlots
	}

	// The location check (IP cap): the session's other-family address, if
	// any, makes a dual-stack announce the same location.
	if !stopped {
		var linked netip.Addr
		if found {
			linked = s.linked(h, pos, is4)
		} else if s.userSessions(user.ID) >= c.cfg.MaxPeers {
			c.dropIfEmpty(sh, tor.ID, s)
			return events.Refusal_REFUSAL_TOO_MANY_PEERS, c.msgTooManyPeers
		}
		if !c.users.touch(c.policy, user.ID, r.Addr, linked, t, cutoff, c.cfg.MaxIPs) {
			c.dropIfEmpty(sh, tor.ID, s)
			return events.Refusal_REFUSAL_TOO_MANY_IPS, c.msgTooManyIPs
		}
	}

	if !found {
		if !stopped {
			np := newPeer(r, user.ID, addr, is4, t)
			if r.Event == events.Event_EVENT_COMPLETED {
				np.flags |= flagSnatched
				ev.Snatch = true
				sh.snatches[tor.ID]++
			}
			pos = s.insert(h, np, c.swarms.seed)
		}
	} else {
		if c.account(s, h, pos, r, ev, is4, addr, t) {
			sh.snatches[tor.ID]++
		}
		p := s.at(pos)
		if stopped {
			s.remove(h, pos, c.swarms.seed)
		} else if (p.flags&flagSeeder != 0) != seeder {
			pos = s.move(h, pos, c.swarms.seed, seeder)
		}
		if r.Event == events.Event_EVENT_NONE && ev.SecondsSincePrevious < uint32(c.cfg.MinInterval/time.Second) && !ev.DualStackDuplicate {
			ans.Warning = c.msgTooOften
		}
	}
	if !stopped {
		numwant := r.NumWant
		if numwant < 0 {
			numwant = c.cfg.NumWant
		}
		numwant = min(numwant, c.cfg.MaxNumWant)
		ans.Peers = c.selectPeers(s, ans.Peers, user.ID, seeder, is4, numwant, cutoff)
	}
	ans.Complete, ans.Incomplete = uint32(len(s.seeders)), uint32(len(s.leechers))
	c.dropIfEmpty(sh, tor.ID, s)
	return events.Refusal_REFUSAL_NONE, ""
}

func (c *Core) dropIfEmpty(sh *swarmShard, id uint64, s *swarm) {
	if s.empty() {
		delete(sh.swarms, id)
	}
}

// storedAddr is a as the swarm stores it: IPv4 in the first 4 bytes.
func storedAddr(a netip.Addr) (addr [16]byte, is4 bool) {
	if a.Is4() {
		a4 := a.As4()
		copy(addr[:], a4[:])
		return addr, true
	}
	return a.As16(), false
}

// cutoff is the oldest store time still live at t (sessions and locations
// expire after twice the interval).
func (c *Core) cutoff(t uint32) uint32 {
	if exp := c.expiry(); t > exp {
		return t - exp
	}
	return 0
}

// newPeer is a new session's entry: r's counters are its baseline.
func newPeer(r *Request, user uint64, addr [16]byte, is4 bool, t uint32) peer {
	np := peer{id: [20]byte(r.PeerID), addr: addr, user: user, up: r.Uploaded, down: r.Downloaded, seen: t, port: r.Port}
	if is4 {
		np.flags |= flagIs4
	}
	if r.Left == 0 {
		np.flags |= flagSeeder
	}
	return np
}

// linked is the session's address in the other family than is4, if it has
// one: a dual-stack announce is the same location.
func (s *swarm) linked(h uint64, pos int32, is4 bool) netip.Addr {
	p := s.at(pos)
	if (p.flags&flagIs4 != 0) != is4 {
		return addrOf(p.addr, p.flags&flagIs4 != 0)
	}
	if p.flags&flagHasAlt != 0 {
		if a := s.alt[h]; a.is4 != is4 {
			return addrOf(a.addr, a.is4)
		}
	}
	return netip.Addr{}
}

func addrOf(b [16]byte, is4 bool) netip.Addr {
	if is4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// account computes the deltas of an existing session and moves its
// baseline. It reports whether the announce is the session's snatch.
func (c *Core) account(s *swarm, h uint64, pos int32, r *Request, ev *events.Announce, is4 bool, addr [16]byte, t uint32) bool {
	p := s.at(pos)
	primary := (p.flags&flagIs4 != 0) == is4
	var alt altAddr
	if p.flags&flagHasAlt != 0 {
		alt = s.alt[h]
	}
	last := p.seen
	if p.flags&flagHasAlt != 0 && alt.seen > last {
		last = alt.seen
	}
	if t > last {
		ev.SecondsSincePrevious = t - last
	}
	// Which address family did the previous announce come on?
	prevIs4 := p.flags&flagIs4 != 0
	if p.flags&flagLastAlt != 0 {
		prevIs4 = alt.is4
	}
	otherFamily := prevIs4 != is4
	wasSeeder := p.flags&flagSeeder != 0

	switch {
	case r.Uploaded >= p.up && r.Downloaded >= p.down:
		ev.DeltaUploaded, ev.DeltaDownloaded = r.Uploaded-p.up, r.Downloaded-p.down
		p.up, p.down = r.Uploaded, r.Downloaded
		if otherFamily && ev.DeltaUploaded == 0 && ev.DeltaDownloaded == 0 {
			ev.DualStackDuplicate = true
		}
	case otherFamily && r.Event != events.Event_EVENT_STARTED:
		// The same session's report over its other address family, behind
		// the one already counted: nothing new, keep the higher baseline.
		ev.DualStackDuplicate = true
	default:
		// A counter went down: the client restarted. Re-baseline, credit 0.
		ev.CounterReset = true
		p.up, p.down = r.Uploaded, r.Downloaded
	}
	if wasSeeder && ev.SecondsSincePrevious > 0 {
		ev.SeedtimeSeconds = min(ev.SecondsSincePrevious, c.expiry())
	}
	// A snatch: the completed event, or a leecher seen reaching left=0 (some
	// clients stop right away and never send completed). Once per session.
	completedNow := r.Event == events.Event_EVENT_COMPLETED || (!wasSeeder && r.Left == 0)
	if completedNow && p.flags&flagSnatched == 0 {
		p.flags |= flagSnatched
		ev.Snatch = true
	}
	// Record the address this announce came from.
	if primary {
		p.addr, p.port, p.seen = addr, r.Port, t
		p.flags &^= flagLastAlt
	} else {
		if s.alt == nil {
			s.alt = map[uint64]altAddr{}
		}
		s.alt[h] = altAddr{addr: addr, seen: t, port: r.Port, is4: is4}
		p.flags |= flagHasAlt | flagLastAlt
	}
	return ev.Snatch
}

// credit applies the promotion in force to the raw deltas: the torrent's,
// the site-wide window's, the member's class's, the member's personal
// freeleech and a freeleech token, the most generous per side; neutral
// leech on the torrent counts neither side whatever else applies.
func (c *Core) credit(ev *events.Announce, user *User, tor *Torrent, now time.Time) {
	promo := NoPromotion
	if !tor.Promotion.IsNone() && (tor.PromotionUntil.IsZero() || now.Before(tor.PromotionUntil)) {
		promo = tor.Promotion
	}
	if !promo.IsNeutral() {
		if site := c.policy.SitePromotion(now); site != nil {
			promo = combine(promo, Promotion{Name: "site:" + site.Name, DownloadPercent: site.DownloadPercent, UploadPercent: site.UploadPercent})
		}
		if cp := user.ClassPromotion; cp != nil && !cp.IsNone() {
			promo = combine(promo, *cp)
		}
		if user.PersonalFreeleech && (user.PersonalFreeleechUntil.IsZero() || now.Before(user.PersonalFreeleechUntil)) {
			promo = combine(promo, Promotion{Name: "personal_freeleech", UploadPercent: 100})
		}
		if _, ok := tor.Tokens[user.ID]; ok {
			promo = combine(promo, Promotion{Name: TokenPromotion, UploadPercent: 100})
		}
	}
	ev.Promotion.Name = promo.Name
	ev.Promotion.DownloadPercent = promo.DownloadPercent
	ev.Promotion.UploadPercent = promo.UploadPercent
	ev.CreditedUploaded = scale(ev.DeltaUploaded, promo.UploadPercent)
	ev.CreditedDownloaded = scale(ev.DeltaDownloaded, promo.DownloadPercent)
}

// combine keeps the more generous factor of each side; the name lists
// both (a promotion that changes nothing is left out).
func combine(a, b Promotion) Promotion {
	if a.IsNone() {
		return b
	}
	return Promotion{Name: a.Name + "+" + b.Name,
		DownloadPercent: min(a.DownloadPercent, b.DownloadPercent),
		UploadPercent:   max(a.UploadPercent, b.UploadPercent)}
}

func scale(n uint64, percent uint32) uint64 {
	if percent == 100 {
		return n
	}
	hi, lo := n/100, n%100
	return hi*uint64(percent) + lo*uint64(percent)/100
}

// selectPeers appends up to numwant peers for the asker: leechers only for a
// seeder, never the asker's own sessions nor an address without a port (an
// old tracker's peer imported without one, a baseline until its own
// announce here), the asker's address family first.
func (c *Core) selectPeers(s *swarm, out []Peer, user uint64, seeder, is4 bool, numwant int, cutoff uint32) []Peer {
	if numwant <= 0 {
		return out
	}
	base := len(out)
	var other [64]Peer // peers of the other family, appended after
	nOther := 0
	take := func(list []peer) {
		n := len(list)
		if n == 0 {
			return
		}
		start := int(rand.Uint32N(uint32(n)))
		for k := 0; k < n && len(out)-base < numwant; k++ {
			p := &list[(start+k)%n]
			if p.user == user || p.seen < cutoff {
				continue
			}
			pIs4, hasPort := p.flags&flagIs4 != 0, p.port != 0
			if pIs4 == is4 && hasPort {
				out = append(out, Peer{ID: p.id, Addr: p.addr, Port: p.port, Is4: pIs4})
				continue
			}
			if p.flags&flagHasAlt != 0 {
				if a := s.alt[sessionHash(c.swarms.seed, p.user, &p.id)]; a.is4 == is4 && a.seen >= cutoff && a.port != 0 {
					out = append(out, Peer{ID: p.id, Addr: a.addr, Port: a.port, Is4: a.is4})
					continue
				}
			}
			if hasPort && nOther < len(other) && len(out)-base+nOther < numwant {
				other[nOther] = Peer{ID: p.id, Addr: p.addr, Port: p.port, Is4: pIs4}
				nOther++
			}
		}
	}
	take(s.leechers)
	if !seeder {
		take(s.seeders)
	}
	for i := 0; i < nOther && len(out)-base < numwant; i++ {
		out = append(out, other[i])
	}
	return out
}

// ScrapeStats is the BEP 48 entry of one torrent.
type ScrapeStats struct {
	Complete, Incomplete, Downloaded uint32
}

// Scrape returns the stats of a registered torrent (ok=false: not registered
// or deleted). The passkey must be known; the caller checks it with User.
func (c *Core) Scrape(infoHash [20]byte) (ScrapeStats, bool) {
	tor := c.policy.TorrentByInfoHash(infoHash)
	if tor == nil || tor.Deleted {
		return ScrapeStats{}, false
	}
	sh := c.swarms.shard(tor.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := ScrapeStats{Downloaded: sh.snatches[tor.ID]}
	if s := sh.swarms[tor.ID]; s != nil {
		st.Complete, st.Incomplete = uint32(len(s.seeders)), uint32(len(s.leechers))
	}
	return st, true
}

// PasskeyByAuthkey returns the passkey a NexusPHP authkey stands for, or ""
// when the policy does not know it (an announce under "" is refused as an
// unknown passkey, and counts against its address like one).
func (c *Core) PasskeyByAuthkey(authkey string) string {
	if r, ok := c.policy.(AuthkeyResolver); ok {
		if pk, ok := r.PasskeyByAuthkey(authkey); ok {
			return pk
		}
	}
	return ""
}

// CheckPasskey validates a scrape's passkey with the same rate limit as
// announces; it returns the refusal message, or "".
func (c *Core) CheckPasskey(passkey string, addr netip.Addr) string {
	t := c.secs(c.clock.Now())
	u := c.policy.UserByPasskey(passkey)
	if u == nil {
		if c.limiter.blocked(addr, t) {
			return msgRateLimited
		}
		c.limiter.bad(addr, t)
		return msgUnknownKey
	}
	if !u.Enabled {
		return disabledMessage(u)
	}
	return ""
}

// Expire removes peers not seen for twice the interval, forgets stale
// locations and rate-limit windows. Call it periodically.
func (c *Core) Expire() (removed int) {
	t := c.secs(c.clock.Now())
	exp := c.expiry()
	if t <= exp {
		c.limiter.expire(t)
		return 0
	}
	removed = c.swarms.expire(t - exp)
	c.users.expire(t - exp)
	c.limiter.expire(t)
	return removed
}

// Stats counts what is in memory (for metrics).
type Stats struct {
	Peers, Seeders, Torrents, Users int
}

// Stats returns the current counts.
func (c *Core) Stats() Stats {
	p, s, t := c.swarms.stats()
	return Stats{Peers: p, Seeders: s, Torrents: t, Users: c.users.count()}
}
