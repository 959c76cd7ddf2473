package detectors

import (
	"context"
	"fmt"
	"math"
	"time"
)

// AccountSelling flags a change point between a member's baseline (60 days)
// and recent (7 days) behaviour: new networks, new clients, other active
// hours, other torrent tastes, especially after a dormant spell.
type AccountSelling struct{}

// Name implements Detector.
func (AccountSelling) Name() string { return "account_selling" }

// Lookback implements Detector.
func (AccountSelling) Lookback(c *Config) time.Duration {
	return c.AccountSelling.Baseline.Duration + c.AccountSelling.Recent.Duration
}

// Doc implements Detector.
func (AccountSelling) Doc() Doc {
	return Doc{
		Title:   "Account selling",
		Catches: "sold accounts (a new owner behind an old account)",
		Signals: []string{
			"share of recent announces from networks never seen in the baseline (weight 0.3)",
			"share of recent announces from clients (peer_id client + version) never seen in the baseline (0.35)",
			"total-variation distance between baseline and recent hour-of-day profiles (0.2)",
			"total-variation distance between baseline and recent torrent size bands, i.e. tastes (0.15)",
			"dormancy: no announce for `dormancy` before the recent activity (+0.2 when the change is already ≥ 0.3)",
		},
		LookAlikes: "travel (new networks and shifted hours, same client and tastes: stays under the threshold), client upgrades (new client version on the same network), restarts",
	}
}

type sellRow struct {
	UserID          uint64 `ch:"user_id"`
	BaseN           uint64 `ch:"base_n"`
	RecentN         uint64 `ch:"recent_n"`
	RecentNewNet    uint64 `ch:"recent_new_net"`
	LastBase        uint32 `ch:"last_base"`
	FirstRecent     uint32 `ch:"first_recent"`
	RecentNewClient uint64 `ch:"recent_new_client"`
}

type sellHourRow struct {
	UserID uint64 `ch:"user_id"`
	Period uint8  `ch:"period"`
	HOD    uint8  `ch:"hod"`
	Band   uint8  `ch:"band"`
	N      uint64 `ch:"n"`
}

// tvd is the total-variation distance between two count histograms.
func tvd(a, b map[uint8]float64) float64 {
	var sa, sb float64
	for _, v := range a {
		sa += v
	}
	for _, v := range b {
		sb += v
	}
	if sa == 0 || sb == 0 {
		return 0
	}
	keys := map[uint8]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var d float64
	for k := range keys {
		d += math.Abs(a[k]/sa - b[k]/sb)
	}
	return d / 2
}

// Run implements Detector.
func (d AccountSelling) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.AccountSelling
	split := w.Until.Add(-c.Recent.Duration)
	var rows []sellRow
	p := windowParams(w)
	p["split"] = unix(split)
	p["min_announces"] = uint64(c.MinAnnounces)
	if err := selectRows(ctx, env, &rows, "selling_profile", p); err != nil {
		return nil, err
	}
	ids := make([]uint64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.UserID)
	}
	type hists struct{ hours, bands [2]map[uint8]float64 }
	h := map[uint64]*hists{}
	if len(ids) > 0 {
		var hr []sellHourRow
		p["users"] = ids
		if err := selectRows(ctx, env, &hr, "selling_hours", p); err != nil {
			return nil, err
		}
		for _, r := range hr {
			x := h[r.UserID]
			if x == nil {
				x = &hists{}
				for i := 0; i < 2; i++ {
					x.hours[i], x.bands[i] = map[uint8]float64{}, map[uint8]float64{}
				}
				h[r.UserID] = x
			}
			x.hours[r.Period][r.HOD] += float64(r.N)
			x.bands[r.Period][r.Band] += float64(r.N)
		}
	}
	var out []Finding
	for _, r := range rows {
		netNew := float64(r.RecentNewNet) / float64(r.RecentN)
		cliNew := float64(r.RecentNewClient) / float64(r.RecentN)
		var hourD, tasteD float64
		if x := h[r.UserID]; x != nil {
			hourD, tasteD = tvd(x.hours[0], x.hours[1]), tvd(x.bands[0], x.bands[1])
		}
		gap := time.Duration(0)
		if r.FirstRecent > r.LastBase {
			gap = time.Duration(r.FirstRecent-r.LastBase) * time.Second
		}
		change := 0.3*netNew + 0.35*cliNew + 0.2*hourD + 0.15*tasteD
		dormant := gap >= c.Dormancy.Duration
		score := change
		if dormant && change >= 0.3 {
			score += 0.2
		}
		score = clamp01(score)
		if score < c.MinScore {
			continue
		}
		sig := []Signal{
			{Name: "recent_new_network_share", Value: netNew, Weight: 0.3, Strength: netNew, Fired: netNew > 0.5, Unit: "share"},
			{Name: "recent_new_client_share", Value: cliNew, Weight: 0.35, Strength: cliNew, Fired: cliNew > 0.5, Unit: "share"},
			{Name: "active_hours_distance", Value: hourD, Weight: 0.2, Strength: hourD, Fired: hourD > 0.5, Unit: "TVD"},
			{Name: "torrent_taste_distance", Value: tasteD, Weight: 0.15, Strength: tasteD, Fired: tasteD > 0.5, Unit: "TVD"},
			{Name: "dormancy_days", Value: gap.Hours() / 24, Threshold: c.Dormancy.Hours() / 24, Weight: 0.2, Strength: 1, Fired: dormant, Unit: "days"},
		}
		f := userFinding(d.Name(), r.UserID, w, sig, score,
			fmt.Sprintf("member %d changed behaviour after %s: %.0f%% of recent announces from new networks, %.0f%% from new clients, hours distance %.2f, taste distance %.2f, %.0f days dormant before",
				r.UserID, split.UTC().Format(time.DateOnly), 100*netNew, 100*cliNew, hourD, tasteD, gap.Hours()/24))
		f.Score = score // a weighted sum, not a noisy-OR: one change alone is not a sale
		f.Evidence.Details = map[string]any{"baseline_announces": r.BaseN, "recent_announces": r.RecentN, "split": split.UTC()}
		if x := h[r.UserID]; x != nil {
			f.Evidence.Series = []Series{hourSeries("baseline announces by hour of day (UTC)", x.hours[0]), hourSeries("recent announces by hour of day (UTC)", x.hours[1])}
		}
		out = append(out, f)
	}
	return out, nil
}

func hourSeries(name string, m map[uint8]float64) Series {
	s := Series{Name: name, Unit: "announces"}
	base := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for hr := uint8(0); hr < 24; hr++ {
		s.Points = append(s.Points, Point{base.Add(time.Duration(hr) * time.Hour), m[hr]})
	}
	return s
}
