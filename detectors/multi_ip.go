package detectors

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// MultiIP flags members announcing from more concurrent sites than one
// member plausibly has. A site is a set of networks (/24, /64) joined by a
// shared peer_id in the same hour, so dual stack, IPv6 privacy rotation and
// carrier-NAT address changes count once; declared seedboxes, allowlisted
// networks and networks many members share (NAT) are left out. With a geo
// database it also counts concurrent ASNs and impossible travel.
type MultiIP struct{}

// Name implements Detector.
func (MultiIP) Name() string { return "multi_ip" }

// Lookback implements Detector.
func (MultiIP) Lookback(c *Config) time.Duration { return c.MultiIP.Lookback.Duration }

// Doc implements Detector.
func (MultiIP) Doc() Doc {
	return Doc{
		Title:   "Multi-IP sharing",
		Catches: "shared accounts, leaked passkeys",
		Signals: []string{
			"hours with more than max_sites concurrent sites (networks joined by a shared peer_id or by one IPv4 /16, a provider's renumbering range), at least min_hours of them",
			"peak concurrent sites",
			"with a geo database: hours with more than max_asns concurrent ASNs; impossible travel (consecutive locations farther apart than max_travel_kmh allows)",
		},
		LookAlikes:  "declared seedboxes (ranges excluded), NAT households and carrier NAT (networks shared by nat_min_users members excluded; address rotation within one peer_id is one site), dual stack and IPv6 privacy addresses (same peer_id, one /64), provider renumbering (same /16), restarts (new peer_id on the same network), travel (networks follow each other, not concurrent)",
		Incremental: "members whose current hour already has more than max_sites concurrent sites (every active member with a geo database), over the whole lookback",
	}
}

type mipRow struct {
	UserID    uint64    `ch:"user_id"`
	Hour      time.Time `ch:"hour"`
	Network   string    `ch:"network"`
	Peers     []string  `ch:"peers"`
	UAs       []string  `ch:"uas"`
	Announces uint64    `ch:"announces"`
	Torrents  uint64    `ch:"torrents"`
}

type natRow struct {
	Network string `ch:"network"`
}

// mipHour is one member-hour after merging networks into sites.
type mipHour struct {
	hour     time.Time
	sites    int
	networks []Network
	clients  int
	asns     int
}

// sitesOf merges one member-hour's networks into sites (union-find on
// shared peer ids and on IPv4 /16) and returns the site count and distinct user agents.
func sitesOf(rows []mipRow) (int, int) {
	parent := make([]int, len(rows))
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
	byPeer := map[string]int{}
	byArea := map[string]int{}
	uas := map[string]bool{}
	for i, r := range rows {
		// Provider renumbering moves an IPv4 home between /24s of one /16:
		// two networks of one /16 in the same hour are one site.
		if n := NetworkFromString(r.Network); n.IsV4() {
			area := string(n[:14])
			if j, ok := byArea[area]; ok {
				parent[find(i)] = find(j)
			} else {
				byArea[area] = i
			}
		}
		for _, p := range r.Peers {
			if j, ok := byPeer[p]; ok {
				parent[find(i)] = find(j)
			} else {
				byPeer[p] = i
			}
		}
		for _, u := range r.UAs {
			uas[u] = true
		}
	}
	roots := map[int]bool{}
	for i := range rows {
		roots[find(i)] = true
	}
	return len(roots), len(uas)
}

// userHours loads member-hours with two or more networks, exemptions applied.
func userHours(ctx context.Context, env *Env, w Window, natMinUsers int) (map[uint64][]mipHour, error) {
	var nat []natRow
	p := windowParams(w)
	p["nat_min_users"] = uint64(natMinUsers)
	if err := selectRows(ctx, env, &nat, "mip_nat", p); err != nil {
		return nil, err
	}
	natSet := map[Network]bool{}
	for _, n := range nat {
		natSet[NetworkFromString(n.Network)] = true
	}
	var rows []mipRow
	if err := selectRows(ctx, env, &rows, "mip_hours", windowParams(w)); err != nil {
		return nil, err
	}
	out := map[uint64][]mipHour{}
	flush := func(group []mipRow) {
		if len(group) == 0 {
			return
		}
		var kept []mipRow
		var nets []Network
		for _, r := range group {
			n := NetworkFromString(r.Network)
			if natSet[n] || env.Exempt.NetworkExempt(r.UserID, n) {
				continue
			}
			kept = append(kept, r)
			nets = append(nets, n)
		}
		if len(kept) == 0 {
			return
		}
		sites, clients := sitesOf(kept)
		h := mipHour{hour: group[0].Hour.UTC(), sites: sites, networks: nets, clients: clients}
		out[group[0].UserID] = append(out[group[0].UserID], h)
	}
	start := 0
	for i := 1; i <= len(rows); i++ {
		if i == len(rows) || rows[i].UserID != rows[start].UserID || !rows[i].Hour.Equal(rows[start].Hour) {
			flush(rows[start:i])
			start = i
		}
	}
	return out, nil
}

// Run implements Detector.
func (d MultiIP) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.MultiIP
	hours, err := userHours(ctx, env, w, c.NATMinUsers)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, id := range sortedKeys(hours) {
		hs := hours[id]
		sort.Slice(hs, func(i, j int) bool { return hs[i].hour.Before(hs[j].hour) })
		over, peak, maxClients, asnHours := 0, 0, 0, 0
		nets := map[Network]int{}
		series := Series{Name: "concurrent sites per hour", Unit: "sites"}
		for i := range hs {
			h := &hs[i]
			if h.sites > c.MaxSites {
				over++
				maxClients = max(maxClients, h.clients)
			}
			peak = max(peak, h.sites)
			for _, n := range h.networks {
				nets[n]++
			}
			if env.Geo != nil {
				asns := map[uint]bool{}
				for _, n := range h.networks {
					gi, err := env.Geo.Lookup(n)
					if err != nil {
						return nil, err
					}
					if gi.ASN != 0 {
						asns[gi.ASN] = true
					}
				}
				h.asns = len(asns)
				if h.asns > c.MaxASNs {
					asnHours++
				}
			}
			series.Points = append(series.Points, Point{h.hour, float64(h.sites)})
		}
		sig := []Signal{
			signal("concurrent_site_hours", float64(over), float64(c.MinHours), 0.95, "hours",
				fmt.Sprintf("hours with more than %d concurrent sites", c.MaxSites)),
			signal("peak_concurrent_sites", float64(peak), float64(c.MaxSites+2), 0.5, "sites", ""),
			signal("concurrent_clients", float64(maxClients), float64(c.MaxClients+1), 0.3, "user agents",
				"distinct user agents in an hour over max_sites"),
		}
		var travel []map[string]any
		if env.Geo != nil {
			sig = append(sig, signal("concurrent_asn_hours", float64(asnHours), float64(c.MinHours), 0.8, "hours",
				fmt.Sprintf("hours with more than %d concurrent ASNs", c.MaxASNs)))
			travel, err = impossibleTravel(env, hs, c)
			if err != nil {
				return nil, err
			}
			sig = append(sig, signal("impossible_travel", float64(len(travel)), 1, 0.6, "jumps", ""))
		}
		f := userFinding(d.Name(), id, w, sig, float64(peak),
			fmt.Sprintf("member %d announced from more than %d concurrent sites in %d hours (peak %d sites, %d networks); %s",
				id, c.MaxSites, over, peak, len(nets), firedNames(sig)))
		if f.Score == 0 {
			continue
		}
		f.Magnitude = float64(over * peak)
		netList := make([]map[string]any, 0, len(nets))
		for n, k := range nets {
			e := map[string]any{"network": n.String(), "hours": k}
			if env.Geo != nil {
				gi, _ := env.Geo.Lookup(n)
				e["geo"] = gi
			}
			netList = append(netList, e)
		}
		sort.Slice(netList, func(i, j int) bool { return netList[i]["network"].(string) < netList[j]["network"].(string) })
		f.Evidence.Details = map[string]any{"networks": netList}
		if len(travel) > 0 {
			f.Evidence.Details["impossible_travel"] = travel
		}
		f.Evidence.Series = []Series{series}
		out = append(out, f)
	}
	return out, nil
}

// impossibleTravel finds consecutive single-site hours whose locations are
// too far apart for the time between them.
func impossibleTravel(env *Env, hs []mipHour, c MultiIPConfig) ([]map[string]any, error) {
	var out []map[string]any
	var prev *GeoInfo
	var prevAt time.Time
	for _, h := range hs {
		if h.sites != 1 {
			continue
		}
		gi, err := env.Geo.Lookup(h.networks[0])
		if err != nil {
			return nil, err
		}
		if !gi.HasLocation {
			continue
		}
		if prev != nil {
			km := distanceKM(*prev, gi)
			hrs := max(h.hour.Sub(prevAt).Hours(), 1)
			if km >= c.TravelMinJumpKM && km/hrs > c.MaxTravelKMH {
				out = append(out, map[string]any{"from": prev.City, "to": gi.City, "km": int(km), "hours": hrs, "at": h.hour})
			}
		}
		g := gi
		prev, prevAt = &g, h.hour
	}
	return out, nil
}

// Triggers implements Triggered: members whose hour of the new rows (from
// its start) already has more than max_sites concurrent sites, or more than
// max_asns ASNs with a geo database — the only ways the hours over the
// limit grow. (Networks shared by many members are judged over that hour
// only, so fewer of them count as NAT: a superset.) With a geo database,
// impossible travel needs no concurrency: then every active member is
// re-evaluated.
func (MultiIP) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	c := env.Config.MultiIP
	if env.Geo != nil {
		return activeMembers(ctx, env, w)
	}
	hours, err := userHours(ctx, env, hourOf(w), c.NATMinUsers)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for id, hs := range hours {
		for _, h := range hs {
			if h.sites > c.MaxSites {
				out = append(out, id)
				break
			}
		}
	}
	return out, nil
}
