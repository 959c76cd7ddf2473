package reports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/detectors"
	"github.com/ratioguard/ratioguard/reports"
)

// Admins change detector thresholds from a page and its JSON twin, each
// field on its own, validated over detect's config file; moderators may not;
// every change is stored where detect reads it and audited; refused input
// says which field and why and keeps what was typed.
func TestDetectorThresholdsPage(t *testing.T) {
	t.Parallel()
	file := detectors.DefaultConfig()
	file.MultiIP.MaxSites = 2 // as if detect's config file said so
	f := setupWith(t, reports.Options{DetectorConfig: file})
	ctx := context.Background()
	if _, err := f.store.CreateStaff(ctx, "adm", "correct horse battery", "admin"); err != nil {
		t.Fatal(err)
	}

	mod := signedInAs(t, f, "mod")
	if code, _ := get(t, mod, f.srv.URL+"/admin/thresholds"); code != http.StatusForbidden {
		t.Errorf("moderator got the thresholds page: %d", code)
	}
	modTok := loginToken(t, f.srv.URL, "mod")
	if code, _ := apiAs(t, f.srv.URL, modTok, "POST", "/api/admin/thresholds", `{"key": "report_threshold", "value": "0.9"}`); code != http.StatusForbidden {
		t.Errorf("moderator set a threshold: %d", code)
	}

	adm := signedInAs(t, f, "adm")
	code, page := get(t, adm, f.srv.URL+"/admin/thresholds")
	if code != http.StatusOK {
		t.Fatalf("thresholds page: %d", code)
	}
	mustContain(t, "thresholds page", page, "Multi-IP sharing (<code>multi_ip</code>)", `id="multi_ip.max_sites"`, `id="report_threshold"`,
		`<code>nexusphp_baseline</code>`, "Signals")
	csrf := csrfOf(t, page)
	post := func(path string, v url.Values) (int, string) {
		t.Helper()
		v.Set("csrf", csrf)
		resp, err := adm.PostForm(f.srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body(t, resp)
	}
	for _, c := range []struct{ key, value, why string }{
		{"multi_ip.max_gap", "an hour", "multi_ip.max_gap must be a duration"},
		{"report_threshold", "1.5", "report_threshold must be in (0,1]"},
		{"multi_ip.max_sites", "0", "multi_ip.max_sites must be &gt;= 1"},
	} {
		code, page := post("/admin/thresholds", url.Values{"key": {c.key}, "value": {c.value}})
		if code != http.StatusBadRequest {
			t.Errorf("%s = %q: %d", c.key, c.value, code)
		}
		mustContain(t, "refused "+c.key, page, c.why, `value="`+c.value+`" aria-invalid="true"`)
	}
	if code, page := post("/admin/thresholds", url.Values{"key": {"multi_ip.max_sites"}, "value": {"3"}, "reason": {"CGNAT mobile users"}}); code != http.StatusOK {
		t.Fatalf("saving max_sites: %d %s", code, page)
	}

	tok := loginToken(t, f.srv.URL, "adm")
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/admin/thresholds", `{"key": "invite_tree.count_open", "value": ["high", "critical"]}`); code != http.StatusOK ||
		!strings.Contains(out, `"effective":"high, critical"`) {
		t.Errorf("API set count_open: %d %s", code, out)
	}
	for payload, why := range map[string]string{
		`{"key": "multi_ip.nope", "value": 1}`:              `there is no detector threshold \"multi_ip.nope\"`,
		`{"key": "nexusphp.level", "value": 9}`:             "nexusphp.level must be 1..4, got 9",
		`{"key": "nexusphp.level"}`:                         "value is missing",
		`{"key": "report_threshold", "reason": "x"}`:        "value is missing",
		`{"key": "faked_upload.max_rate", "value": "fast"}`: `faked_upload.max_rate must be a number, not \"fast\"`,
	} {
		if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/admin/thresholds", payload); code != http.StatusBadRequest || !strings.Contains(out, why) {
			t.Errorf("API %s: %d %s, want 400 with %q", payload, code, out, why)
		}
	}

	row := func(key string) reports.ThresholdRow {
		t.Helper()
		code, out := apiAs(t, f.srv.URL, tok, "GET", "/api/admin/thresholds", "")
		var list reports.DetectorThresholds
		if err := json.Unmarshal([]byte(out), &list); code != http.StatusOK || err != nil {
			t.Fatalf("API list: %d %v", code, err)
		}
		for _, sec := range list.Sections {
			for _, r := range sec.Rows {
				if r.Key == key {
					if sec.UpdatedBy == "" && r.Override != nil {
						t.Errorf("section %s has an override but no author", sec.Section)
					}
					return r
				}
			}
		}
		t.Fatalf("no %s in the API list", key)
		return reports.ThresholdRow{}
	}
	if r := row("multi_ip.max_sites"); r.Default != "1" || r.File != "2" || r.Override == nil || *r.Override != "3" || r.Effective != "3" {
		t.Errorf("max_sites after saving: %+v", r)
	}
	// What detect will read: the stored overrides over its file.
	ov, err := detectors.LoadOverrides(ctx, f.pg.Pool)
	if err != nil {
		t.Fatal(err)
	}
	eff, err := detectors.Apply(file, ov)
	if err != nil || eff.MultiIP.MaxSites != 3 || strings.Join(eff.InviteTree.CountOpen, ",") != "high,critical" || eff.ReportThreshold != 0.5 {
		t.Fatalf("effective config from the store: %+v, %v", eff, err)
	}

	if code, page := post("/admin/thresholds/reset", url.Values{"key": {"multi_ip.max_sites"}}); code != http.StatusOK {
		t.Fatalf("reset: %d %s", code, page)
	}
	if r := row("multi_ip.max_sites"); r.Override != nil || r.Effective != "2" {
		t.Errorf("max_sites after reset: %+v", r)
	}
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/admin/thresholds/reset", `{"key": "multi_ip.max_sites"}`); code != http.StatusBadRequest ||
		!strings.Contains(out, "multi_ip.max_sites has no override to reset") {
		t.Errorf("second reset: %d %s", code, out)
	}

	rows, err := f.pg.Pool.Query(ctx, `SELECT actor || ' ' || action || ' ' || subject_id || ' ' || reason || ' ' || before::text || ' ' || after::text
		FROM audit_log WHERE subject_kind = 'detector_threshold' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var audit []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		audit = append(audit, s)
	}
	want := []string{
		`staff:adm detector_threshold.set multi_ip.max_sites CGNAT mobile users {"override": null, "effective": "2"} {"override": 3, "effective": "3"}`,
		`staff:adm detector_threshold.set invite_tree.count_open  {"override": null, "effective": ""} {"override": ["high", "critical"], "effective": "high, critical"}`,
		`staff:adm detector_threshold.reset multi_ip.max_sites  {"override": 3, "effective": "3"} {"override": null, "effective": "2"}`,
	}
	if strings.Join(audit, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit rows:\n%s\nwant:\n%s", strings.Join(audit, "\n"), strings.Join(want, "\n"))
	}
}
