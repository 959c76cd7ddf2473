package population

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/spec"
)

// Build generates the population of a run from start to end.
func Build(s *spec.Spec, start, end time.Time) (*Population, error) {
	if !end.After(start) {
		return nil, fmt.Errorf("build population: end %s is not after start %s", end, start)
	}
	b := &builder{
		s:   s,
		r:   rand.New(rand.NewPCG(s.Seed, 0x5eed)),
		pop: &Population{Seed: s.Seed, Start: start, End: end},
	}
	b.net = &netGen{r: b.r}
	b.clientNames, b.clientWeights = sortedWeights(s.Clients)
	b.torrents()
	b.members()
	b.lookalikes()
	b.cheaters()
	b.initialSeeds()
	b.uploaders()
	if err := b.invites(); err != nil {
		return nil, err
	}
	return b.pop, nil
}

type builder struct {
	s             *spec.Spec
	r             *rand.Rand
	net           *netGen
	pop           *Population
	clientNames   []string
	clientWeights []float64
	nextAgent     uint32
}

func sortedWeights(m map[string]float64) ([]string, []float64) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	w := make([]float64, len(names))
	for i, n := range names {
		w[i] = m[n]
	}
	return names, w
}

func pick(r *rand.Rand, w []float64) int {
	var total float64
	for _, x := range w {
		total += x
	}
	v := r.Float64() * total
	for i, x := range w {
		if v < x {
			return i
		}
		v -= x
	}
	return len(w) - 1
}

func (b *builder) hash(kind string, i int) [20]byte {
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], b.s.Seed)
	binary.BigEndian.PutUint64(buf[8:], uint64(i))
	return sha1.Sum(append([]byte(kind), buf[:]...))
}

func (b *builder) logUniform(lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + b.r.Float64()*(math.Log(hi)-math.Log(lo)))
}

func (b *builder) torrents() {
	t := b.s.Torrents
	type rel struct {
		at    time.Time
		fresh bool
	}
	var rels []rel
	for i := 0; i < t.Initial; i++ {
		age := time.Duration(b.r.Float64() * float64(t.MaxAge))
		rels = append(rels, rel{at: b.pop.Start.Add(-age)})
	}
	days := b.pop.End.Sub(b.pop.Start).Hours() / 24
	n := poisson(b.r, t.NewPerDay*days)
	for i := 0; i < n; i++ {
		rels = append(rels, rel{at: b.pop.Start.Add(time.Duration(b.r.Float64() * float64(b.pop.End.Sub(b.pop.Start)))), fresh: true})
	}
	sort.SliceStable(rels, func(i, j int) bool { return rels[i].at.Before(rels[j].at) })
	// Popularity ranks are drawn independently of age (heavy tail by Zipf).
	ranks := b.r.Perm(len(rels))
	for i, r := range rels {
		size := float64(t.SizeMedian) * math.Exp(t.SizeSigma*b.r.NormFloat64())
		size = math.Max(float64(t.SizeMin), math.Min(float64(t.SizeMax), size))
		tor := &Torrent{
			Index: i, ID: uint64(i + 1), InfoHash: b.hash("torrent", i),
			Name:    fmt.Sprintf("sim-%d-torrent-%06d", b.s.Seed, i),
			Size:    int64(size) &^ 0x3fff, // whole 16 KiB blocks
			Created: r.at.Truncate(time.Second),
			Weight:  1 / math.Pow(float64(ranks[i]+1), t.Zipf),
		}
		if tor.Size < 16384 {
			tor.Size = 16384
		}
		b.pop.Torrents = append(b.pop.Torrents, tor)
	}
}

func poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 50 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (b *builder) newAgent(m *Member, client *clients.Template, net *Network) *Agent {
	bh := b.s.Behavior
	b.nextAgent++
	up := b.logUniform(float64(bh.UploadMin), float64(bh.UploadMax))
	a := &Agent{
		ID: b.nextAgent, Member: m, Client: client, From: b.pop.Start,
		Up: int64(up), Down: int64(math.Min(up*bh.DownloadFactor, 16*float64(bh.UploadMax))),
		AlwaysOn:    b.r.Float64() < bh.AlwaysOn,
		OnlineStart: math.Floor(b.r.Float64() * 24),
		OnlineHours: bh.OnlineHoursMin + b.r.Float64()*(bh.OnlineHoursMax-bh.OnlineHoursMin),
		Net:         net, Port: uint16(10000 + b.r.IntN(55000)),
		GrabsPerDay:    bh.GrabsPerDay * b.logUniform(0.25, 4),
		SeedTime:       time.Duration(float64(bh.SeedTimeMedian) * math.Exp(b.r.NormFloat64())),
		MaxActive:      bh.MaxActive,
		RestartsPerDay: bh.RestartsPerDay,
	}
	if a.Down < a.Up {
		a.Down = a.Up
	}
	if b.r.IntN(10) == 0 {
		a.Port = 6881 + uint16(b.r.IntN(9))
	}
	m.Agents = append(m.Agents, a)
	b.pop.Agents = append(b.pop.Agents, a)
	return a
}

func (b *builder) honestClient() *clients.Template {
	return clients.MustByName(b.clientNames[pick(b.r, b.clientWeights)])
}

func (b *builder) members() {
	for i := 0; i < b.s.Members; i++ {
		pk := b.hash("passkey", i)
		m := &Member{
			Index: i, ID: uint64(i + 1), Name: fmt.Sprintf("sim%d-u%06d", b.s.Seed, i),
			Passkey: hex.EncodeToString(pk[:16]), Class: "member",
		}
		if b.r.IntN(5) == 0 {
			m.Class = "power_user"
		}
		b.pop.Members = append(b.pop.Members, m)
		b.newAgent(m, b.honestClient(), b.net.residential(false))
	}
}

// lookalikes gives honest traits; the cheaters are chosen afterwards among the
// members without any, so every look-alike is honest.
func (b *builder) lookalikes() {
	l := b.s.Lookalikes
	var household *Network
	householdLeft := 0
	var cgnat *Network
	cgnatLeft := 0
	for _, m := range b.pop.Members {
		a := m.Agents[0]
		switch v := b.r.Float64(); {
		case v < l.Seedbox:
			m.Lookalikes = append(m.Lookalikes, Seedbox)
			a.Net = b.net.from(Datacenter, datacenterV4, b.r.IntN(2) == 0)
			a.AlwaysOn, a.MaxActive = true, 10*a.MaxActive
			a.Up = int64(b.logUniform(20e6, 120e6))
			a.Down = a.Up
			a.SeedTime *= 6
			a.GrabsPerDay *= 5
			a.Client = clients.MustByName([]string{"rtorrent", "qbittorrent", "deluge"}[b.r.IntN(3)])
			p := a.Net.V4.As4()
			p[3] = 0
			b.pop.SeedboxRanges = append(b.pop.SeedboxRanges, SeedboxRange{Member: m, Prefix: netip.PrefixFrom(netip.AddrFrom4(p), 24)})
			continue
		case v < l.Seedbox+l.NATHousehold:
			if householdLeft == 0 {
				household = b.net.residential(false)
				household.Kind = Household
				householdLeft = 2 + b.r.IntN(3)
			}
			householdLeft--
			a.Net = household
			m.Lookalikes = append(m.Lookalikes, NATHousehold)
		case v < l.Seedbox+l.NATHousehold+l.CGNAT:
			if cgnatLeft == 0 {
				cgnat = b.net.residential(false)
				cgnat.Kind = CarrierNAT
				cgnatLeft = l.CGNATPoolSize
			}
			cgnatLeft--
			a.Net = cgnat
			m.Lookalikes = append(m.Lookalikes, CGNAT)
		}
		if b.r.Float64() < l.DualStack+l.IPv6Privacy {
			a.DualStack = true
			a.PrivacyV6 = b.r.Float64() < l.IPv6Privacy/(l.DualStack+l.IPv6Privacy)
			n := *a.Net
			n.V6, n.HasV6 = b.net.v6(n.ISP, false), true
			a.Net = &n
			// A dual-stack peer behind NAT keeps its shared IPv4 (the copy has the same address).
			m.Lookalikes = append(m.Lookalikes, DualStack)
			if a.PrivacyV6 {
				m.Lookalikes = append(m.Lookalikes, IPv6Privacy)
			}
		}
		if b.r.Float64() < l.Restarts {
			a.RestartsPerDay = math.Max(3, 30*a.RestartsPerDay)
			m.Lookalikes = append(m.Lookalikes, Restarts)
		}
		if b.r.Float64() < l.Travel {
			span := b.pop.End.Sub(b.pop.Start)
			stay := time.Duration((2 + b.r.Float64()*4) * 24 * float64(time.Hour))
			if stay > span/2 {
				stay = span / 2
			}
			from := b.pop.Start.Add(time.Duration(b.r.Float64() * float64(span-stay)))
			a.Trip = &Trip{From: from, Until: from.Add(stay), Net: b.net.from(Foreign, foreignV4, false)}
			m.Lookalikes = append(m.Lookalikes, Travel)
		}
	}
}

func (b *builder) cheatStart() time.Time {
	c := b.s.Cheaters
	span := float64(b.pop.End.Sub(b.pop.Start))
	f := c.StartFrom + b.r.Float64()*(c.StartTo-c.StartFrom)
	return b.pop.Start.Add(time.Duration(f * span)).Truncate(time.Second)
}

func (b *builder) cheaters() {
	c := b.s.Cheaters
	var pool []*Member
	for _, m := range b.pop.Members {
		if len(m.Lookalikes) == 0 {
			pool = append(pool, m)
		}
	}
	if len(pool) < c.Total() {
		// Not enough members without traits: take look-alikes too, dropping their traits.
		pool = append([]*Member(nil), b.pop.Members...)
	}
	b.r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	next := 0
	take := func(k Kind) *Member {
		m := pool[next]
		next++
		m.Cheat, m.CheatStart, m.Lookalikes = k, b.cheatStart(), nil
		return m
	}
	for i := 0; i < c.NaiveFaker; i++ {
		m := take(NaiveFaker)
		home := b.endAt(m, m.CheatStart)
		f := b.newAgent(m, clients.MustByName("ratiofaker-fixed"), home.Net)
		f.From, f.Behavior = m.CheatStart, NaiveFake
		f.FakeRate = []int64{512 << 10, 1 << 20, 2 << 20, 5 << 20}[b.r.IntN(4)]
		f.AlwaysOn, f.MaxActive = home.AlwaysOn, 8
	}
	for i := 0; i < c.CarefulFaker; i++ {
		m := take(CarefulFaker)
		home := b.endAt(m, m.CheatStart)
		f := b.cloneAgent(m, home, clients.MustByName("ratiofaker-mimic"))
		f.From, f.Behavior = m.CheatStart, CarefulFake
		f.FakeRate = int64(b.logUniform(100e3, 600e3))
	}
	for i := 0; i < c.CollusionPair; i++ {
		x, y := take(Colluder), take(Colluder)
		y.CheatStart = x.CheatStart
		x.Partner, y.Partner = y, x
		rate := int64(b.logUniform(2e6, 8e6))
		for _, m := range []*Member{x, y} {
			f := b.cloneAgent(m, m.Agents[0], m.Agents[0].Client)
			f.From, f.Behavior, f.FakeRate, f.AlwaysOn = m.CheatStart, Collude, rate, true
		}
	}
	for i := 0; i < c.SharedAccount; i++ {
		m := take(SharedAccount)
		for k := 1 + b.r.IntN(3); k > 0; k-- {
			f := b.newAgent(m, b.honestClient(), b.net.residential(b.r.IntN(3) == 0))
			f.From, f.AlwaysOn = m.CheatStart, b.r.IntN(2) == 0
		}
	}
	for i := 0; i < c.SoldAccount; i++ {
		m := take(SoldAccount)
		span := b.pop.End.Sub(b.pop.Start)
		quiet := min(10*24*time.Hour, span/4)
		if m.CheatStart.Sub(b.pop.Start) < quiet {
			m.CheatStart = b.pop.Start.Add(quiet)
		}
		home := b.endAt(m, m.CheatStart.Add(-quiet))
		var client *clients.Template
		for client = b.honestClient(); client == home.Client && len(b.clientNames) > 1; client = b.honestClient() {
		}
		f := b.newAgent(m, client, b.net.from(Foreign, foreignV4, false))
		f.From, f.AlwaysOn = m.CheatStart, false
		f.OnlineStart = math.Mod(home.OnlineStart+12, 24)
		f.GrabsPerDay = 3 * home.GrabsPerDay
		f.SeedTime = home.SeedTime / 4
	}
	for i := 0; i < c.LeakedPasskey; i++ {
		m := take(LeakedPasskey)
		for k := 1 + b.r.IntN(3); k > 0; k-- {
			f := b.newAgent(m, b.honestClient(), b.net.from(Foreign, foreignV4, false))
			f.From, f.Stranger, f.AlwaysOn = m.CheatStart, true, false
			f.GrabsPerDay, f.SeedTime = 4*b.s.Behavior.GrabsPerDay, time.Hour
		}
	}
	for i := 0; i < c.LeechService; i++ {
		m := take(LeechService)
		b.endAt(m, m.CheatStart)
		f := b.newAgent(m, clients.MustByName([]string{"aria2", "qbittorrent"}[b.r.IntN(2)]), b.net.from(Datacenter, cloudV4, false))
		f.From, f.Behavior, f.AlwaysOn = m.CheatStart, LeechOnly, true
		f.Down = int64(b.logUniform(40e6, 120e6))
		f.Up = f.Down / 20
		f.GrabsPerDay, f.MaxActive, f.SeedTime = 25, 50, 0
	}
	for i := 0; i < c.GhostLeecher; i++ {
		m := take(GhostLeecher)
		home := b.endAt(m, m.CheatStart)
		f := b.cloneAgent(m, home, home.Client)
		f.From, f.Behavior = m.CheatStart, Ghost
		f.GrabsPerDay = 2 * home.GrabsPerDay
	}
}

// endAt ends the member's first agent at t and returns it.
func (b *builder) endAt(m *Member, t time.Time) *Agent {
	a := m.Agents[0]
	a.Until = t
	return a
}

// cloneAgent adds an agent with the same habits and network as a.
func (b *builder) cloneAgent(m *Member, a *Agent, client *clients.Template) *Agent {
	b.nextAgent++
	c := *a
	c.ID, c.Client, c.Until, c.InitialSeeds = b.nextAgent, client, time.Time{}, nil
	m.Agents = append(m.Agents, &c)
	b.pop.Agents = append(b.pop.Agents, &c)
	return &c
}

// initialSeeds gives honest agents active at the start torrents they already seed.
func (b *builder) initialSeeds() {
	var existing []*Torrent
	for _, t := range b.pop.Torrents {
		if !t.Created.After(b.pop.Start) {
			existing = append(existing, t)
		}
	}
	if len(existing) == 0 {
		return
	}
	cum := make([]float64, len(existing))
	var total float64
	for i, t := range existing {
		total += t.Weight
		cum[i] = total
	}
	for _, a := range b.pop.Agents {
		if a.Behavior != Honest || a.From.After(b.pop.Start) || a.Stranger {
			continue
		}
		n := poisson(b.r, b.s.Behavior.InitialSeeding*float64(a.MaxActive)/float64(b.s.Behavior.MaxActive))
		seen := map[int]bool{}
		for k := 0; k < n && len(seen) < len(existing); k++ {
			i := sort.SearchFloat64s(cum, b.r.Float64()*total)
			if i >= len(existing) {
				i = len(existing) - 1
			}
			if !seen[i] {
				seen[i] = true
				a.InitialSeeds = append(a.InitialSeeds, existing[i].Index)
			}
		}
		sort.Ints(a.InitialSeeds)
	}
}

// uploaders picks an honest, always-available agent to seed each release.
func (b *builder) uploaders() {
	var candidates []*Agent
	for _, a := range b.pop.Agents {
		if a.Behavior == Honest && !a.Stranger && a.Until.IsZero() && a.From.Equal(b.pop.Start) {
			candidates = append(candidates, a)
		}
	}
	if len(candidates) == 0 {
		return
	}
	for _, t := range b.pop.Torrents {
		if t.Created.After(b.pop.Start) {
			t.Uploader = candidates[b.r.IntN(len(candidates))]
		}
	}
}
