package detectors

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"time"
)

// AccountSelling looks for a change point in a member's history: one silent
// gap (at least min_gap) that splits everything the member did into a
// "before" and an "after" sharing no (network area, client) pair, with the
// after part on networks and clients never seen before and at other hours
// of the day, especially after a long dormancy.
type AccountSelling struct{}

// Name implements Detector.
func (AccountSelling) Name() string { return "account_selling" }

// Lookback implements Detector.
func (AccountSelling) Lookback(c *Config) time.Duration { return c.AccountSelling.Baseline.Duration }

// Cadence implements Periodic.
func (AccountSelling) Cadence(c *Config) time.Duration { return c.AccountSelling.Cadence.Duration }

// Doc implements Detector.
func (AccountSelling) Doc() Doc {
	return Doc{
		Title:   "Account selling",
		Catches: "sold accounts (a new owner behind an old account)",
		Signals: []string{
			"change point: a silence of at least min_gap after which no (network area, client) pair of before is used again — area is the IPv4 /16 (provider renumbering stays inside) or IPv6 /48, client the peer_id client and version; no such gap, no report",
			"share of announces after the change from network areas never seen before (weight 0.3)",
			"share of announces after the change from clients never seen before (0.4): a client family (peer_id prefix without the version) never seen counts fully, a new version of a family seen before counts a quarter (an upgrade)",
			"total-variation distance between the hour-of-day profiles before and after (0.15)",
			"dormancy: the silence at the change point, full strength at `dormancy` (0.15)",
			"score = weighted sum (not a noisy-OR: one change alone is not a sale), reported from min_score when at least half the announces after the change come from new network areas and both sides have min_announces",
		},
		LookAlikes: "travel (the home network comes back after the trip, so no clean change point; and the client stays), provider renumbering (same /16), client restarts and dual stack (same client, same areas), members idle for days (they come back on the same network and client: a new area alone stays under min_score), a move with a client upgrade (a quarter of a new client: reported only when the hours of day change too), a client switch on the same networks (no new area), a member who replaces a client without a pause (no silence: min_gap)",
	}
}

type sellEraRow struct {
	UserID uint64    `ch:"user_id"`
	Area   string    `ch:"area"`
	Client string    `ch:"client"`
	HOD    uint8     `ch:"hod"`
	First  time.Time `ch:"first"`
	Last   time.Time `ch:"last"`
	N      uint64    `ch:"n"`
}

// sellEra is one (area, client) pair of a member.
type sellEra struct {
	area, client string
	first, last  time.Time
	n            uint64
	hours        [24]float64
}

// sellCut is the best change point of one member.
type sellCut struct {
	before, after   []*sellEra
	lastBefore, at  time.Time
	nBefore, nAfter uint64
}

// changePoint returns the widest silent gap that splits the eras cleanly
// (every era entirely before or entirely after it), if any.
func changePoint(eras []*sellEra) (sellCut, bool) {
	sort.Slice(eras, func(i, j int) bool {
		if !eras[i].first.Equal(eras[j].first) {
			return eras[i].first.Before(eras[j].first)
		}
		return eras[i].area+eras[i].client < eras[j].area+eras[j].client
	})
	best, ok := sellCut{}, false
	var maxLast time.Time
	for k := 1; k < len(eras); k++ {
		if eras[k-1].last.After(maxLast) {
			maxLast = eras[k-1].last
		}
		if !eras[k].first.After(maxLast) {
			continue
		}
		if !ok || eras[k].first.Sub(maxLast) > best.at.Sub(best.lastBefore) {
			best, ok = sellCut{before: eras[:k], after: eras[k:], lastBefore: maxLast, at: eras[k].first}, true
		}
	}
	if ok {
		for _, e := range best.before {
			best.nBefore += e.n
		}
		for _, e := range best.after {
			best.nAfter += e.n
		}
	}
	return best, ok
}

// tvd24 is the total-variation distance between two hour-of-day histograms.
func tvd24(a, b [24]float64) float64 {
	var sa, sb float64
	for i := range a {
		sa += a[i]
		sb += b[i]
	}
	if sa == 0 || sb == 0 {
		return 0
	}
	var d float64
	for i := range a {
		d += math.Abs(a[i]/sa - b[i]/sb)
	}
	return d / 2
}

// Run implements Detector.
func (d AccountSelling) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	var rows []sellEraRow
	if err := selectRows(ctx, env, &rows, "selling_eras", windowParams(w)); err != nil {
		return nil, err
	}
	var out []Finding
	start := 0
	for i := 1; i <= len(rows); i++ {
		if i < len(rows) && rows[i].UserID == rows[start].UserID {
			continue
		}
		if f, ok := d.judge(rows[start:i], env.Config.AccountSelling, w); ok {
			out = append(out, f)
		}
		start = i
	}
	return out, nil
}

func (d AccountSelling) judge(rows []sellEraRow, c AccountSellingConfig, w Window) (Finding, bool) {
	byKey := map[[2]string]*sellEra{}
	var eras []*sellEra
	for _, r := range rows {
		k := [2]string{r.Area, r.Client}
		e := byKey[k]
		if e == nil {
			e = &sellEra{area: r.Area, client: r.Client, first: r.First, last: r.Last}
			byKey[k] = e
			eras = append(eras, e)
		}
		if r.First.Before(e.first) {
			e.first = r.First
		}
		if r.Last.After(e.last) {
			e.last = r.Last
		}
		e.n += r.N
		e.hours[r.HOD%24] += float64(r.N)
	}
	cut, ok := changePoint(eras)
	gap := cut.at.Sub(cut.lastBefore)
	if !ok || gap < c.MinGap.Duration || cut.nBefore < uint64(c.MinAnnounces) || cut.nAfter < uint64(c.MinAnnounces) {
		return Finding{}, false
	}
	areas, clients, families := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var hb, ha [24]float64
	for _, e := range cut.before {
		areas[e.area], clients[e.client], families[clientFamily(e.client)] = true, true, true
		for h := range hb {
			hb[h] += e.hours[h]
		}
	}
	var newArea, newClient float64
	for _, e := range cut.after {
		if !areas[e.area] {
			newArea += float64(e.n)
		}
		switch {
		case !families[clientFamily(e.client)]:
			newClient += float64(e.n)
		case !clients[e.client]:
			newClient += float64(e.n) / 4 // a new version of a client seen before: an upgrade, mostly
		}
		for h := range ha {
			ha[h] += e.hours[h]
		}
	}
	netNew, cliNew := newArea/float64(cut.nAfter), newClient/float64(cut.nAfter)
	hourD := tvd24(hb, ha)
	dorm := math.Min(1, gap.Hours()/c.Dormancy.Hours())
	sig := []Signal{
		{Name: "new_network_area_share", Value: netNew, Threshold: 0.5, Weight: 0.3, Strength: netNew, Fired: netNew > 0, Unit: "share"},
		{Name: "new_client_share", Value: cliNew, Threshold: 0.5, Weight: 0.4, Strength: cliNew, Fired: cliNew > 0, Unit: "share"},
		{Name: "active_hours_distance", Value: hourD, Threshold: 0.5, Weight: 0.15, Strength: hourD, Fired: hourD > 0, Unit: "TVD"},
		{Name: "dormancy_days", Value: gap.Hours() / 24, Threshold: c.Dormancy.Hours() / 24, Weight: 0.15, Strength: dorm, Fired: true, Unit: "days"},
	}
	var score float64
	for _, s := range sig {
		score += s.Weight * s.Strength
	}
	// A new owner announces from elsewhere: a change of client alone on the
	// old networks is a client switch (or a cheat tool, another detector's).
	if score < c.MinScore || netNew < 0.5 {
		return Finding{}, false
	}
	id := rows[0].UserID
	f := userFinding(d.Name(), id, w, sig, score,
		fmt.Sprintf("member %d went silent for %.1f days after %s and came back with %.0f%% of announces from new network areas and %.0f%% from new clients, hours-of-day distance %.2f",
			id, gap.Hours()/24, cut.lastBefore.UTC().Format(time.DateTime), 100*netNew, 100*cliNew, hourD))
	f.Score = score // a weighted sum, not a noisy-OR
	f.Evidence.Details = map[string]any{
		"change_point": cut.at.UTC(), "last_before": cut.lastBefore.UTC(),
		"announces_before": cut.nBefore, "announces_after": cut.nAfter,
		"eras_before": eraList(cut.before), "eras_after": eraList(cut.after),
	}
	f.Evidence.Series = []Series{hourSeries("announces by hour of day before (UTC)", hb), hourSeries("announces by hour of day after (UTC)", ha)}
	return f, true
}

// clientFamily is the client part of an era's client (the hex of the
// peer_id's first six bytes): "-qB" of "-qB452", else the first two bytes
// ("A2" of aria2's "A2-1-3").
func clientFamily(hexClient string) string {
	b, err := hex.DecodeString(hexClient)
	if err != nil || len(b) < 2 {
		return hexClient
	}
	if b[0] == '-' && len(b) >= 3 {
		return string(b[:3])
	}
	return string(b[:2])
}

func eraList(es []*sellEra) []map[string]any {
	out := make([]map[string]any, 0, len(es))
	for _, e := range es {
		out = append(out, map[string]any{"area": e.area, "client": e.client, "first": e.first.UTC(), "last": e.last.UTC(), "announces": e.n})
	}
	return out
}

func hourSeries(name string, h [24]float64) Series {
	s := Series{Name: name, Unit: "announces"}
	base := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for hr := range h {
		s.Points = append(s.Points, Point{base.Add(time.Duration(hr) * time.Hour), h[hr]})
	}
	return s
}
