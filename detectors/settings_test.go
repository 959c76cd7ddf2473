package detectors

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestThresholdsParseFormatApply(t *testing.T) {
	ths := Thresholds()
	seen := map[string]bool{}
	for _, th := range ths {
		seen[th.Key] = true
	}
	for _, k := range []string{"report_threshold", "material_increase", "faked_upload.max_rate", "multi_ip.max_gap", "cloud_leech.offline_clients", "nexusphp.level"} {
		if !seen[k] {
			t.Errorf("threshold %s not listed", k)
		}
	}
	for _, k := range []string{"staff_classes", "allow_users", "geo_db"} {
		if seen[k] {
			t.Errorf("exemption %s listed as a threshold", k)
		}
	}
	if th, _ := LookupThreshold("nexusphp.level"); th.Detector != "nexusphp_baseline" {
		t.Errorf("nexusphp section tunes %q", th.Detector)
	}

	bad := map[string]string{
		"report_threshold":               "high",
		"multi_ip.max_gap":               "an hour",
		"faked_upload.min_rate_bytes":    "-1",
		"multi_ip.max_sites":             "2.5",
		"faked_upload.balance_min_share": "NaN",
	}
	for key, text := range bad {
		th, _ := LookupThreshold(key)
		if _, err := th.Parse(text); err == nil || !strings.HasPrefix(err.Error(), key+" ") {
			t.Errorf("Parse(%s, %q) = %v, want an error naming the setting", key, text, err)
		}
	}

	base := DefaultConfig()
	ov := Overrides{}
	set := func(key, text string) {
		t.Helper()
		th, ok := LookupThreshold(key)
		if !ok {
			t.Fatalf("no threshold %s", key)
		}
		v, err := th.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if ov[th.Section] == nil {
			ov[th.Section] = map[string]json.RawMessage{}
		}
		ov[th.Section][th.Field] = v
	}
	set("report_threshold", "0.7")
	set("multi_ip.max_gap", "90m")
	set("cloud_leech.offline_clients", " -XL, -QD ,")
	set("faked_upload.min_rate_bytes", "2147483648")
	cfg, err := Apply(base, ov)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReportThreshold != 0.7 || cfg.MultiIP.MaxGap.Duration != 90*time.Minute ||
		strings.Join(cfg.CloudLeech.OfflineClients, "|") != "-XL|-QD" || cfg.FakedUpload.MinRateBytes != 2<<30 {
		t.Errorf("applied config = %+v", cfg)
	}
	if cfg.MultiIP.MaxSites != base.MultiIP.MaxSites || cfg.FakedUpload.MaxRate != base.FakedUpload.MaxRate {
		t.Error("fields without an override changed")
	}
	if base.ReportThreshold != 0.5 || len(base.CloudLeech.OfflineClients) != 4 {
		t.Error("Apply modified its base")
	}
	for key, want := range map[string]string{"multi_ip.max_gap": "1h30m0s", "faked_upload.max_rate": "104857600", "invite_tree.max_chance": "0.0001"} {
		if th, _ := LookupThreshold(key); th.Format(cfg) != want {
			t.Errorf("Format(%s) = %q, want %q", key, th.Format(cfg), want)
		}
	}
	if got := ChangedThresholds(base, cfg); strings.Join(got, ",") != "report_threshold,faked_upload.min_rate_bytes,multi_ip.max_gap,cloud_leech.offline_clients" {
		t.Errorf("ChangedThresholds = %v", got)
	}

	set("report_threshold", "1.5") // parses, but Validate refuses it
	if _, err := Apply(base, ov); err == nil || !strings.Contains(err.Error(), "report_threshold must be in (0,1]") {
		t.Errorf("out-of-range report_threshold: %v", err)
	}
	if _, err := Apply(base, Overrides{"multi_ip": {"max_sitez": json.RawMessage(`2`)}}); err == nil || !strings.Contains(err.Error(), "multi_ip.max_sitez") {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := Apply(base, Overrides{"multi_ip": {"max_sites": json.RawMessage(`"two"`)}}); err == nil || !strings.Contains(err.Error(), "multi_ip.max_sites") {
		t.Errorf("mistyped stored value: %v", err)
	}
}

// A threshold stored in Postgres changes what the scheduler's next pass
// reports; an invalid stored threshold keeps the last valid config.
func TestStoredThresholdAppliesAtNextPass(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	mk := func(name string, invitedBy *int64) int64 {
		var id int64
		if err := pg.Pool.QueryRow(ctx, `INSERT INTO users (name, passkey, class, invited_by) VALUES ($1, md5($1), 'member', $2) RETURNING id`,
			name, invitedBy).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	inviter := mk("inviter", nil)
	crowd := mk("crowd", nil)
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey, invited_by) SELECT 'crowd' || i, md5('crowd' || i), $1 FROM generate_series(1, 200) AS i`, crowd); err != nil {
		t.Fatal(err)
	}
	base := DefaultConfig()
	r, err := NewRunner(ctx, base, pg.Pool, nil, nil, []Detector{InviteTree{}})
	if err != nil {
		t.Fatal(err)
	}
	r.Torrents = nil // no ClickHouse in this test
	confirmBadInvitees(t, r.Store, func(name string) int64 { return mk(name, &inviter) })
	var logs bytes.Buffer
	s := &Scheduler{Runner: r, Interval: time.Minute, Reload: r.Reloader(base, slog.New(slog.NewTextHandler(&logs, nil)))}
	pass := func(at time.Time) RunStats {
		t.Helper()
		stats, err := s.Once(ctx, at)
		if err != nil || len(stats) != 1 {
			t.Fatalf("pass: %+v, %v", stats, err)
		}
		return stats[0]
	}
	if st := pass(until); st.Findings != 1 {
		t.Fatalf("before the override: %+v", st)
	}
	store := func(section, overrides string) {
		t.Helper()
		if _, err := pg.Pool.Exec(ctx, `INSERT INTO detector_settings (section, overrides, updated_by) VALUES ($1, $2, 'test')
			ON CONFLICT (section) DO UPDATE SET overrides = EXCLUDED.overrides`, section, overrides); err != nil {
			t.Fatal(err)
		}
	}
	store("invite_tree", `{"min_bad_invitees": 3}`)
	if st := pass(until.Add(time.Minute)); st.Findings != 0 {
		t.Fatalf("min_bad_invitees 3 still finds: %+v", st)
	}
	if r.Env.Config.InviteTree.MinBadInvitees != 3 || !strings.Contains(logs.String(), "invite_tree.min_bad_invitees") {
		t.Errorf("reload: config %d, logs %s", r.Env.Config.InviteTree.MinBadInvitees, logs.String())
	}
	// Stored by hand past the console's checks: logged, the last valid
	// config (min 3) stays, the pass runs.
	store("report", `{"report_threshold": 7}`)
	if st := pass(until.Add(2 * time.Minute)); st.Findings != 0 || st.Err != "" {
		t.Fatalf("with an invalid stored threshold: %+v", st)
	}
	if r.Env.Config.InviteTree.MinBadInvitees != 3 || r.Env.Config.ReportThreshold != 0.5 ||
		!strings.Contains(logs.String(), "keeping the last valid thresholds") {
		t.Errorf("invalid override: config %+v, logs %s", r.Env.Config.InviteTree, logs.String())
	}
	ov, err := LoadOverrides(ctx, pg.Pool)
	if err != nil || string(ov["invite_tree"]["min_bad_invitees"]) != "3" || len(ov) != 2 {
		t.Errorf("LoadOverrides = %v, %v", ov, err)
	}
}

// confirmBadInvitees adds two invitees (named by invitee) reported by two
// detectors, reports staff then confirmed: verdicts, which invite_tree
// counts by default.
func confirmBadInvitees(t *testing.T, st *Store, invitee func(name string) int64) {
	t.Helper()
	ctx := context.Background()
	for i, name := range []string{"a", "b"} {
		id := invitee(name)
		det := []string{"multi_ip", "account_selling"}[i]
		if _, err := st.Upsert(ctx, userFinding(det, uint64(id), Window{From: until.Add(-time.Hour), Until: until},
			[]Signal{{Name: "x", Fired: true, Weight: 1, Strength: 1}}, 1, "bad invitee")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.PG.Exec(ctx, `UPDATE cheat_reports SET status = 'confirmed', reviewed_at = now()`); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkReloadBeforePass is what a scheduled pass spends before its
// detectors: re-reading exemptions (what every pass did already: the
// baseline) and, now, the stored thresholds too (three sections overridden).
func BenchmarkReloadBeforePass(b *testing.B) {
	pg := testenv.Postgres(b)
	ctx := context.Background()
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO detector_settings (section, overrides, updated_by) VALUES
		('report', '{"report_threshold": 0.6}', 'bench'), ('multi_ip', '{"max_sites": 2, "max_gap": "90m"}', 'bench'),
		('invite_tree', '{"count_open": ["high", "critical"]}', 'bench')`); err != nil {
		b.Fatal(err)
	}
	base := DefaultConfig()
	r, err := NewRunner(ctx, base, pg.Pool, nil, nil, All())
	if err != nil {
		b.Fatal(err)
	}
	reload := r.Reloader(base, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Run("exemptions", func(b *testing.B) {
		for b.Loop() {
			if err := r.ReloadExemptions(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("thresholds+exemptions", func(b *testing.B) {
		for b.Loop() {
			if err := reload(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	if r.Env.Config.MultiIP.MaxSites != 2 {
		b.Errorf("overrides not applied: max_sites %d", r.Env.Config.MultiIP.MaxSites)
	}
}
