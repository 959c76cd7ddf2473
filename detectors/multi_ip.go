package detectors

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// MultiIP flags an account used at several locations at once. A location
// is a set of site keys (an IPv4 address, an IPv6 /64) that one client
// provably uses: keys joined by a peer_id announcing from both (dual stack,
// an address change inside a session) or by one client — user agent and
// listen port — announcing from an IPv4 and an IPv6 key or from two keys of
// one provider range (/16, /48). A location is present between two
// announces of one session at most max_gap apart, never past a `stopped` or
// the session's last announce; the evidence is the time more than max_sites
// locations were present at once. Declared seedboxes, allowlisted networks
// and networks of seedbox providers (around other members' declared
// seedboxes) are not locations. With a geo database it also counts
// concurrent ASNs and impossible travel.
type MultiIP struct{}

// Name implements Detector.
func (MultiIP) Name() string { return "multi_ip" }

// Lookback implements Detector.
func (MultiIP) Lookback(c *Config) time.Duration { return c.MultiIP.Lookback.Duration }

// Doc implements Detector.
func (MultiIP) Doc() Doc {
	return Doc{
		Title:   "Multi-IP sharing",
		Catches: "shared accounts (several locations, each with its own client and line, online at once), leaked passkeys",
		Signals: []string{
			"hours during which more than max_sites locations were present at once, from min_hours (weight 0.95; full strength from about 2.5 × min_hours). A location is a set of site keys (IPv4 address, IPv6 /64) joined when one peer_id announces from both (dual stack, carrier-NAT or dynamic address changes inside a session) or one client (user agent and listen port) announces from an IPv4 and an IPv6 key or from two keys of one /16 (/48); it is present between two announces of one session at most max_gap apart, never after `stopped` nor past the last announce. Announces refused by the tracker's location cap count",
			"supporting only (raise a score the hours give, never report alone): peak locations present at once from max_sites+2 (0.5); user agents of the locations present together above max_clients (0.3)",
			"with a geo database: hours with more than max_asns ASNs among the locations present at once (0.8, from min_hours); impossible travel between consecutive single-location hours (faster than max_travel_kmh over at least travel_min_jump_km; 0.6, supporting)",
		},
		LookAlikes:  "declared seedboxes and allowlisted networks (not locations); undeclared seedboxes in a seedbox provider's network — the /16 (IPv6 /32) around any member's declared seedbox range (not locations); dual stack and IPv6 privacy addresses (one peer_id, one /64); NAT households (the shared address is one location of each member); carrier NAT and dynamic addresses (one location at a time: sessions keep their peer_id across an address change, a new session on the next address follows the last announce on the previous one); travel (the home client stops before the trip, and presence never extends past a session's last announce); restarts; provider renumbering (same client and port in one /16). Not told apart: one person present at two places at once — an office, a seedbox outside known provider networks — staff decide; declaring the seedbox or allowlisting the network clears it",
		Incremental: "members with a clock hour, from max_gap before the new rows, in which no site key is shared by all their peers (every active member with a geo database), over the whole lookback",
	}
}

// mipSession is one row of mip_sessions: one peer on one torrent at one
// site key.
type mipSession struct {
	UserID    uint64   `ch:"user_id"`
	Site      string   `ch:"site"`
	Peer      string   `ch:"peer"`
	TorrentID uint64   `ch:"torrent_id"`
	Port      uint16   `ch:"port"`
	UA        string   `ch:"ua"`
	Times     []uint32 `ch:"times"`
	Stops     []uint32 `ch:"stops"`
}

// span is a presence interval in unix seconds.
type span struct{ from, until uint32 }

// mipLocation is one location of a member.
type mipLocation struct {
	keys     []netip.Prefix
	uas      map[string]bool
	torrents map[uint64]bool
	spans    []span // merged presence
	excluded string // why it is not a location ("" when it is)
	present  uint32 // seconds present
	together uint32 // seconds present while more than max_sites locations were
}

// siteKey turns a mip_sessions site (IPv4-mapped address or IPv6 /64) into a prefix.
func siteKey(s string) netip.Prefix {
	var b [16]byte
	copy(b[:], s)
	a := netip.AddrFrom16(b).Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	return netip.PrefixFrom(a, 64)
}

// keyArea is the provider range of a site key for client joins: the IPv4
// /16, the IPv6 /48.
func keyArea(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4() {
		return netip.PrefixFrom(p.Addr(), 16).Masked()
	}
	return netip.PrefixFrom(p.Addr(), 48).Masked()
}

// providerAreas are the networks of seedbox providers: the /16 (IPv6: /32,
// by configuration) around every member's declared seedbox range.
type providerAreas map[netip.Prefix]bool

func seedboxProviderAreas(e *Exemptions, c MultiIPConfig) providerAreas {
	out := providerAreas{}
	if e == nil {
		return out
	}
	for _, ps := range e.seedboxes {
		for _, p := range ps {
			bits := c.SeedboxAreaV4Bits
			if !p.Addr().Is4() {
				bits = c.SeedboxAreaV6Bits
			}
			// A declared range wider than the area says nothing about a provider.
			if bits <= 0 || p.Bits() < bits {
				continue
			}
			out[netip.PrefixFrom(p.Addr(), bits).Masked()] = true
		}
	}
	return out
}

func (a providerAreas) contains(p netip.Prefix, c MultiIPConfig) bool {
	bits := c.SeedboxAreaV4Bits
	if !p.Addr().Is4() {
		bits = c.SeedboxAreaV6Bits
	}
	return bits > 0 && a[netip.PrefixFrom(p.Addr(), bits).Masked()]
}

// keyExempt says why a site key is not a location of the member, if it is not.
func keyExempt(e *Exemptions, user uint64, p netip.Prefix, areas providerAreas, c MultiIPConfig) string {
	if e != nil {
		for _, s := range e.networks {
			if s.Overlaps(p) {
				return "allowlisted network"
			}
		}
		for _, s := range e.seedboxes[user] {
			if s.Overlaps(p) {
				return "declared seedbox"
			}
		}
	}
	if areas.contains(p, c) {
		return "seedbox provider network (other members' declared seedboxes)"
	}
	return ""
}

// mipLocations joins a member's site keys into locations and measures their presence.
func mipLocations(rows []mipSession, c MultiIPConfig) []*mipLocation {
	idx := map[string]int{}
	var keys []netip.Prefix
	for _, r := range rows {
		if _, ok := idx[r.Site]; !ok {
			idx[r.Site] = len(keys)
			keys = append(keys, siteKey(r.Site))
		}
	}
	parent := make([]int, len(keys))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	union := func(a, b int) { parent[find(a)] = find(b) }
	type client struct {
		ua   string
		port uint16
	}
	type areaClient struct {
		client
		area netip.Prefix
	}
	byPeer := map[string]int{}
	byArea := map[areaClient]int{}
	byFamily := map[client][2]int{} // first IPv4 and IPv6 key (+1; 0 none)
	for _, r := range rows {
		k := idx[r.Site]
		if j, ok := byPeer[r.Peer]; ok {
			union(k, j)
		} else {
			byPeer[r.Peer] = k
		}
		cl := client{r.UA, r.Port}
		ac := areaClient{cl, keyArea(keys[k])}
		if j, ok := byArea[ac]; ok {
			union(k, j)
		} else {
			byArea[ac] = k
		}
		fam := 0
		if !keys[k].Addr().Is4() {
			fam = 1
		}
		f := byFamily[cl]
		if f[fam] == 0 {
			f[fam] = k + 1
			byFamily[cl] = f
		}
		if f[1-fam] != 0 {
			union(k, f[1-fam]-1)
		}
	}
	locs := map[int]*mipLocation{}
	var order []int
	for k := range keys {
		root := find(k)
		l := locs[root]
		if l == nil {
			l = &mipLocation{uas: map[string]bool{}, torrents: map[uint64]bool{}}
			locs[root] = l
			order = append(order, root)
		}
		l.keys = append(l.keys, keys[k])
	}
	gap := uint32(c.MaxGap.Seconds())
	for _, r := range rows {
		l := locs[find(idx[r.Site])]
		l.uas[r.UA] = true
		l.torrents[r.TorrentID] = true
		stops := map[uint32]bool{}
		for _, s := range r.Stops {
			stops[s] = true
		}
		for i := 1; i < len(r.Times); i++ {
			a, b := r.Times[i-1], r.Times[i]
			if b > a && b-a <= gap && !stops[a] {
				l.spans = append(l.spans, span{a, b})
			}
		}
	}
	out := make([]*mipLocation, 0, len(order))
	for _, root := range order {
		l := locs[root]
		sort.Slice(l.keys, func(i, j int) bool { return l.keys[i].Addr().Less(l.keys[j].Addr()) })
		l.spans = mergeSpans(l.spans)
		for _, s := range l.spans {
			l.present += s.until - s.from
		}
		out = append(out, l)
	}
	return out
}

// mergeSpans sorts and merges overlapping intervals.
func mergeSpans(s []span) []span {
	if len(s) == 0 {
		return nil
	}
	sort.Slice(s, func(i, j int) bool { return s[i].from < s[j].from })
	out := []span{s[0]}
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		if x.from <= last.until {
			last.until = max(last.until, x.until)
		} else {
			out = append(out, x)
		}
	}
	return out
}

// mipTimeline is what a sweep over a member's locations found.
type mipTimeline struct {
	over     uint32         // seconds with more than max_sites locations present
	peak     int            // most locations present at once
	days     map[int64]bool // days (UTC) with such seconds
	uas      map[string]bool
	hourMax  map[int64]int   // hour (unix/3600) → most locations present at once
	hourLocs map[int64][]int // hour → locations present in it
	asnOver  uint32          // seconds with more than max_asns ASNs present (geo)
}

// sweep walks the presence of the counted locations (excluded ones are
// skipped) and measures their overlap. asnOf, when not nil, gives a
// location's ASN (0 unknown).
func sweep(locs []*mipLocation, maxSites, maxASNs int, asnOf func(int) uint) mipTimeline {
	type ev struct {
		t   uint32
		d   int
		loc int
	}
	var evs []ev
	tl := mipTimeline{days: map[int64]bool{}, uas: map[string]bool{}, hourMax: map[int64]int{}, hourLocs: map[int64][]int{}}
	for i, l := range locs {
		if l.excluded != "" {
			continue
		}
		for _, s := range l.spans {
			evs = append(evs, ev{s.from, 1, i}, ev{s.until, -1, i})
			for h := int64(s.from) / 3600; h <= int64(s.until)/3600; h++ {
				if hl := tl.hourLocs[h]; len(hl) == 0 || hl[len(hl)-1] != i {
					tl.hourLocs[h] = append(hl, i)
				}
			}
		}
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].t != evs[j].t {
			return evs[i].t < evs[j].t
		}
		return evs[i].d < evs[j].d // an interval ending where another starts does not overlap it
	})
	active := map[int]bool{}
	for j, e := range evs {
		if j > 0 && len(active) > 0 {
			from, until := evs[j-1].t, e.t
			n := len(active)
			for h := int64(from) / 3600; h <= int64(until)/3600 && until > from; h++ {
				tl.hourMax[h] = max(tl.hourMax[h], n)
			}
			if n > maxSites && until > from {
				dt := until - from
				tl.over += dt
				tl.days[int64(from)/86400] = true
				asns := map[uint]bool{}
				for i := range active {
					locs[i].together += dt
					for ua := range locs[i].uas {
						tl.uas[ua] = true
					}
					if asnOf != nil {
						if a := asnOf(i); a != 0 {
							asns[a] = true
						}
					}
				}
				if len(asns) > maxASNs {
					tl.asnOver += dt
				}
			}
		}
		if e.d > 0 {
			active[e.loc] = true
		} else {
			delete(active, e.loc)
		}
		tl.peak = max(tl.peak, len(active))
	}
	return tl
}

// mipCandidates returns the members of w that may have two locations
// present at once (in an incremental pass, among its triggered members).
func mipCandidates(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	ids, err := triggerUsers(ctx, env, "mip_candidates", windowParams(w))
	if err != nil {
		return nil, err
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// mipSessions reads the sessions of the given members (sorted ids), in chunks.
func mipSessions(ctx context.Context, env *Env, w Window, users []uint64) ([]mipSession, error) {
	var rows []mipSession
	for len(users) > 0 {
		n := min(len(users), 5000)
		var part []mipSession
		p := windowParams(w)
		p["users"] = users[:n]
		if err := selectRows(ctx, env, &part, "mip_sessions", p); err != nil {
			return nil, err
		}
		rows = append(rows, part...)
		users = users[n:]
	}
	return rows, nil
}

// Run implements Detector.
func (d MultiIP) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.MultiIP
	ids, err := mipCandidates(ctx, env, w)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	rows, err := mipSessions(ctx, env, w, ids)
	if err != nil {
		return nil, err
	}
	areas := seedboxProviderAreas(env.Exempt, c)
	var out []Finding
	start := 0
	for i := 1; i <= len(rows); i++ {
		if i < len(rows) && rows[i].UserID == rows[start].UserID {
			continue
		}
		f, ok, err := d.judge(env, rows[start:i], areas, w)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, f)
		}
		start = i
	}
	return out, nil
}

// judge scores one member's sessions.
func (d MultiIP) judge(env *Env, rows []mipSession, areas providerAreas, w Window) (Finding, bool, error) {
	c := env.Config.MultiIP
	id := rows[0].UserID
	locs := mipLocations(rows, c)
	for _, l := range locs {
		for _, p := range l.keys {
			if why := keyExempt(env.Exempt, id, p, areas, c); why != "" {
				l.excluded = why
				break
			}
		}
	}
	var asnOf func(int) uint
	var geoErr error
	if env.Geo != nil {
		asnOf = func(i int) uint {
			gi, err := env.Geo.Lookup(NetworkOf(locs[i].keys[0].Addr()))
			if err != nil && geoErr == nil {
				geoErr = err
			}
			return gi.ASN
		}
	}
	tl := sweep(locs, c.MaxSites, c.MaxASNs, asnOf)
	if geoErr != nil {
		return Finding{}, false, geoErr
	}
	overH := float64(tl.over) / 3600
	sig := []Signal{
		signal("concurrent_location_hours", overH, c.MinHours, 0.95, "hours",
			fmt.Sprintf("hours with more than %d locations present at once, on %d days", c.MaxSites, len(tl.days))),
		signal("peak_concurrent_locations", float64(tl.peak), float64(c.MaxSites+2), 0.5, "locations", "supporting"),
		signal("concurrent_clients", float64(len(tl.uas)), float64(c.MaxClients+1), 0.3, "user agents",
			"user agents of the locations present together; supporting"),
	}
	physical := map[string]bool{"concurrent_location_hours": true, "concurrent_asn_hours": true}
	var travel []map[string]any
	if env.Geo != nil {
		sig = append(sig, signal("concurrent_asn_hours", float64(tl.asnOver)/3600, c.MinHours, 0.8, "hours",
			fmt.Sprintf("hours with more than %d ASNs among the locations present at once", c.MaxASNs)))
		var err error
		travel, err = impossibleTravel(env, locs, tl, c)
		if err != nil {
			return Finding{}, false, err
		}
		sig = append(sig, signal("impossible_travel", float64(len(travel)), 1, 0.6, "jumps", "supporting"))
	}
	score := combineGated(sig, func(s Signal) bool { return physical[s.Name] })
	if score == 0 {
		return Finding{}, false, nil
	}
	counted := 0
	for _, l := range locs {
		if l.excluded == "" {
			counted++
		}
	}
	uas := make([]string, 0, len(tl.uas))
	for ua := range tl.uas {
		uas = append(uas, ua)
	}
	sort.Strings(uas)
	f := userFinding(d.Name(), id, w, sig, float64(tl.peak),
		fmt.Sprintf("member %d was present at more than %d locations at once for %.1f h on %d days (peak %d at once, %d locations in the window; clients %s); %s",
			id, c.MaxSites, overH, len(tl.days), tl.peak, counted, strings.Join(uas, ", "), firedNames(sig)))
	f.Score = score
	f.Magnitude = overH * float64(max(tl.peak, 1))
	f.Evidence.Details = map[string]any{
		"locations":                 mipLocationList(env, locs),
		"hours_present_together":    overH,
		"days_present_together":     len(tl.days),
		"peak_locations_at_once":    tl.peak,
		"locations_in_window":       counted,
		"max_gap_between_announces": c.MaxGap.String(),
	}
	if len(travel) > 0 {
		f.Evidence.Details["impossible_travel"] = travel
	}
	series := Series{Name: "locations present at once (most per hour)", Unit: "locations"}
	hours := make([]int64, 0, len(tl.hourMax))
	for h := range tl.hourMax {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i] < hours[j] })
	for _, h := range hours {
		series.Points = append(series.Points, Point{time.Unix(h*3600, 0).UTC(), float64(tl.hourMax[h])})
	}
	f.Evidence.Series = []Series{series}
	return f, true, nil
}

// mipLocationsListed caps the locations listed in the evidence.
const mipLocationsListed = 25

// mipLocationList is the evidence's list of locations, the longest present first.
func mipLocationList(env *Env, locs []*mipLocation) []map[string]any {
	sorted := append([]*mipLocation(nil), locs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].present > sorted[j].present })
	out := make([]map[string]any, 0, min(len(sorted), mipLocationsListed))
	for i, l := range sorted {
		if i == mipLocationsListed {
			out = append(out, map[string]any{"more_locations": len(sorted) - i})
			break
		}
		nets := make([]string, 0, len(l.keys))
		for _, k := range l.keys[:min(len(l.keys), 10)] {
			nets = append(nets, k.String())
		}
		if len(l.keys) > 10 {
			nets = append(nets, fmt.Sprintf("and %d more", len(l.keys)-10))
		}
		uas := make([]string, 0, len(l.uas))
		for ua := range l.uas {
			uas = append(uas, ua)
		}
		sort.Strings(uas)
		e := map[string]any{
			"networks":       nets,
			"user_agents":    uas,
			"torrents":       len(l.torrents),
			"hours_present":  float64(l.present) / 3600,
			"hours_together": float64(l.together) / 3600,
		}
		if len(l.spans) > 0 {
			e["first"] = time.Unix(int64(l.spans[0].from), 0).UTC()
			e["last"] = time.Unix(int64(l.spans[len(l.spans)-1].until), 0).UTC()
		}
		if l.excluded != "" {
			e["not_counted"] = l.excluded
		}
		if env.Geo != nil {
			if gi, err := env.Geo.Lookup(NetworkOf(l.keys[0].Addr())); err == nil {
				e["geo"] = gi
			}
		}
		out = append(out, e)
	}
	return out
}

// impossibleTravel finds consecutive hours with a single location present
// whose places are too far apart for the time between them.
func impossibleTravel(env *Env, locs []*mipLocation, tl mipTimeline, c MultiIPConfig) ([]map[string]any, error) {
	hours := make([]int64, 0, len(tl.hourLocs))
	for h, ls := range tl.hourLocs {
		if len(ls) == 1 {
			hours = append(hours, h)
		}
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i] < hours[j] })
	var out []map[string]any
	var prev *GeoInfo
	var prevAt int64
	for _, h := range hours {
		gi, err := env.Geo.Lookup(NetworkOf(locs[tl.hourLocs[h][0]].keys[0].Addr()))
		if err != nil {
			return nil, err
		}
		if !gi.HasLocation {
			continue
		}
		if prev != nil {
			km := distanceKM(*prev, gi)
			hrs := max(float64(h-prevAt), 1)
			if km >= c.TravelMinJumpKM && km/hrs > c.MaxTravelKMH {
				out = append(out, map[string]any{"from": prev.City, "to": gi.City, "km": int(km), "hours": hrs, "at": time.Unix(h*3600, 0).UTC()})
			}
		}
		g := gi
		prev, prevAt = &g, h
	}
	return out, nil
}

// Triggers implements Triggered: members who, from max_gap before the new
// rows (to the start of that hour), have an hour in which no site key is
// shared by all their peers — a new overlap of two locations needs a new
// announce, the interval it closes starts at most max_gap earlier, and the
// two overlapping intervals have announces in a common hour, on keys no
// peer joins (mip_triggers). With a geo database, impossible travel needs
// no concurrency: then every active member is re-evaluated.
func (MultiIP) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	if env.Geo != nil {
		return activeMembers(ctx, env, w)
	}
	from := w.ActiveSince.Add(-env.Config.MultiIP.MaxGap.Duration).Truncate(time.Hour)
	if from.Before(w.From) {
		from = w.From
	}
	return triggerUsers(ctx, env, "mip_triggers", windowParams(Window{From: from, Until: w.Until, ActiveSince: w.ActiveSince}))
}
