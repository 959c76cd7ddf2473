package rules

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestRequiredFollowsGazelleTable(t *testing.T) {
	c := Default().Ratio
	cases := []struct {
		gib, share, want float64
	}{
		{0, 0, 0},
		{4.99, 0, 0},
		{5, 0, 0.15}, // 5 GiB is the second tier
		{7, 1, 0},
		{15, 0, 0.20},
		{25, 0, 0.30},
		{25, 0.5, 0.15},
		{25, 1, 0.05},  // the tier's minimum
		{45, 0.9, 0.2}, // max(0.2, 0.05)
		{70, 0, 0.60},
		{90, 0.5, 0.50},
		{150, 0, 0.60},
		{150, 1, 0.60},
		{150, 2, 0.60}, // share clamped
	}
	for _, tc := range cases {
		got := c.Required(tc.gib*GiB, tc.share)
		if math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Required(%g GiB, share %g) = %g, want %g", tc.gib, tc.share, got, tc.want)
		}
	}
}

func TestSeededShareAndRatio(t *testing.T) {
	if SeededShare(0, 0) != 1 || SeededShare(4, 1) != 0.25 || SeededShare(2, 5) != 1 {
		t.Fatal("SeededShare wrong")
	}
	if !math.IsInf(Ratio(10, 0), 1) || Ratio(1, 4) != 0.25 {
		t.Fatal("Ratio wrong")
	}
}

func TestWatchStateMachine(t *testing.T) {
	c := Default().Ratio
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	below := RatioInput{Uploaded: 1 * GiB, Downloaded: 30 * GiB, Snatches: 10} // 0.033 < 0.30
	above := RatioInput{Uploaded: 20 * GiB, Downloaded: 30 * GiB, Snatches: 10}
	watch := Watch{State: WatchActive, EndsAt: now.Add(time.Hour), DownloadedAtStart: 30 * GiB}
	with := func(in RatioInput, w Watch) RatioInput { in.Watch = w; return in }
	cases := []struct {
		name string
		in   RatioInput
		want WatchAction
	}{
		{"below, no watch: start", below, WatchStart},
		{"above, no watch: nothing", above, WatchKeep},
		{"small download never watched", RatioInput{Downloaded: 4 * GiB}, WatchKeep},
		{"on watch, still below, time left: keep", with(below, watch), WatchKeep},
		{"on watch, back above: clear", with(above, watch), WatchClear},
		{"watch expired: disable", with(below, Watch{State: WatchActive, EndsAt: now, DownloadedAtStart: 30 * GiB}), WatchDisableExpired},
		{"downloaded >10 GiB on watch: disable", with(RatioInput{Uploaded: 1 * GiB, Downloaded: 41 * GiB}, watch), WatchDisableDownload},
		{"exactly 10 GiB on watch: keep", with(RatioInput{Uploaded: 1 * GiB, Downloaded: 40 * GiB}, watch), WatchKeep},
		{"disabled, still below: keep", with(below, Watch{State: WatchDisabled, EndsAt: now.Add(-time.Hour)}), WatchKeep},
		{"disabled, back above: restore", with(above, Watch{State: WatchDisabled, EndsAt: now.Add(-time.Hour)}), WatchRestore},
		{"exempt on watch: clear", RatioInput{Exempt: true, Downloaded: 30 * GiB, Watch: watch}, WatchClearExempt},
		{"exempt below: nothing", RatioInput{Exempt: true, Downloaded: 30 * GiB}, WatchKeep},
		{"below, past unseen: nothing", RatioInput{Uploaded: 1 * GiB, Downloaded: 30 * GiB, Snatches: 10, UnseenPast: true}, WatchKeep},
	}
	for _, tc := range cases {
		if got := c.Decide(tc.in, now).Action; got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestHitAndRun(t *testing.T) {
	c := Default().HnR
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Snatch{TorrentSize: 1000, Downloaded: 500, Seedtime: 10 * time.Hour, Started: start}
	if c.ShouldWarn(s, start.Add(13*24*time.Hour)) {
		t.Error("warned before the 14-day deadline")
	}
	if !c.ShouldWarn(s, start.Add(14*24*time.Hour)) {
		t.Error("no warning at the deadline with 10 h seeded")
	}
	if c.ShouldWarn(s, start.Add((14+28)*24*time.Hour)) {
		t.Error("warned for a snatch whose warning would already have expired")
	}
	seeded := s
	seeded.Seedtime = 72 * time.Hour
	if c.ShouldWarn(seeded, start.Add(15*24*time.Hour)) {
		t.Error("warned although 72 h were seeded")
	}
	small := s
	small.Downloaded = 100 // exactly 10%: not a snatch
	if c.ShouldWarn(small, start.Add(15*24*time.Hour)) {
		t.Error("warned for a download of 10%")
	}
	site := small
	site.FromSite = true // completed on the site, whatever it says was downloaded
	if !c.ShouldWarn(site, start.Add(15*24*time.Hour)) {
		t.Error("no warning for a snatch the site says was completed")
	}
	warned := s
	warned.Warned = true
	if c.ShouldWarn(warned, start.Add(15*24*time.Hour)) {
		t.Error("warned twice")
	}
	exp := c.Expiry(start)
	if got := c.LiftReason(exp, time.Hour, exp.Add(-time.Second)); got != "" {
		t.Errorf("lift before expiry: %q", got)
	}
	if got := c.LiftReason(exp, time.Hour, exp); got != "expired" {
		t.Errorf("lift at expiry: %q", got)
	}
	if got := c.LiftReason(exp, 72*time.Hour, start); got != "seeded" {
		t.Errorf("lift after seeding: %q", got)
	}
}

func TestBonusRewardsSizeAndScarcity(t *testing.T) {
	c := Default().Bonus
	if got := c.Points(1, GiB, 1000); math.Abs(got-1.002) > 1e-9 {
		t.Errorf("1 h of a 1 GiB torrent with 1000 seeders = %g, want 1.002", got)
	}
	if got := c.Points(1, GiB, 1); got != 3 {
		t.Errorf("lone seeder of 1 GiB for 1 h = %g, want 3", got)
	}
	if c.Points(1, GiB, 0) != c.Points(1, GiB, 1) {
		t.Error("0 seeders must count as the member alone")
	}
	if !(c.Points(1, 16*GiB, 5) > c.Points(1, 4*GiB, 5)) || !(c.Points(1, 4*GiB, 2) > c.Points(1, 4*GiB, 20)) {
		t.Error("bigger or thinner swarms must pay more")
	}
	if c.Points(1, 1<<50, 1000) != c.Points(1, 1<<52, 1000) {
		t.Error("size weight not clamped")
	}
	if c.Points(3, 4*GiB, 2) != 3*c.Points(1, 4*GiB, 2) {
		t.Error("points not linear in hours")
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := Parse(strings.NewReader(""))
	if err != nil || cfg.Ratio.WatchDays != 14 {
		t.Fatalf("empty config: %v %+v", err, cfg.Ratio)
	}
	cfg, err = Parse(strings.NewReader("ratio:\n  watch_days: 7\n  table:\n    - {up_to_gib: 1, max: 0.5, min: 0.1}\n    - {up_to_gib: 0, max: 1, min: 1}\nhnr:\n  warnings_to_disable: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ratio.WatchDays != 7 || len(cfg.Ratio.Table) != 2 || cfg.HnR.WarningsToDisable != 5 || cfg.HnR.SeedHours != 72 {
		t.Fatalf("overrides not applied over defaults: %+v %+v", cfg.Ratio, cfg.HnR)
	}
	if got := cfg.Ratio.Required(2*GiB, 0); got != 1 {
		t.Fatalf("custom table: required %g, want 1", got)
	}
	if !cfg.HnR.Enabled {
		t.Fatal("hit-and-run off by default")
	}
	if cfg, err = Parse(strings.NewReader("hnr:\n  enabled: false\n")); err != nil || cfg.HnR.Enabled || cfg.HnR.SeedHours != 72 {
		t.Fatalf("hnr.enabled false: %v %+v", err, cfg.HnR)
	}
	for _, bad := range []string{
		"ratio:\n  watch_dayz: 3\n",
		"ratio:\n  table:\n    - {up_to_gib: 10, max: 0.5, min: 0.1}\n",
		"ratio:\n  table:\n    - {up_to_gib: 10, max: 0.1, min: 0.5}\n    - {up_to_gib: 0, max: 1, min: 1}\n",
		"ratio:\n  table:\n    - {up_to_gib: 10, max: 0.1, min: 0}\n    - {up_to_gib: 5, max: 0.1, min: 0}\n    - {up_to_gib: 0, max: 1, min: 1}\n",
		"hnr:\n  min_downloaded_percent: 100\n",
		"bonus:\n  seeder_fresh_minutes: 0\n",
		"ratio: [",
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted bad config %q", bad)
		}
	}
}

func TestExemptClasses(t *testing.T) {
	def := Default()
	for _, c := range []string{"staff", "Staff", "SysOp", "Administrator", "Moderator", "Staff Leader", "Owner", "Uploader", "VIP", "vip", "Retiree"} {
		if !Exempt(c, def.Ratio.ExemptClasses) || !Exempt(c, def.HnR.ExemptClasses) {
			t.Errorf("class %q not exempt by default", c)
		}
	}
	for _, c := range []string{"member", "power_user", "User", "Power User", "Nexus Master", "Elite", "Peasant", ""} {
		if Exempt(c, def.Ratio.ExemptClasses) || Exempt(c, def.HnR.ExemptClasses) {
			t.Errorf("class %q exempt by default", c)
		}
	}
	cfg, err := Parse(strings.NewReader("ratio:\n  exempt_classes: [Torrent Master]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !Exempt("torrent master", cfg.Ratio.ExemptClasses) || Exempt("staff", cfg.Ratio.ExemptClasses) || !Exempt("staff", cfg.HnR.ExemptClasses) {
		t.Fatalf("configured classes: %v / %v", cfg.Ratio.ExemptClasses, cfg.HnR.ExemptClasses)
	}
}
