package site

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The write-back's metrics count what its stored batches did (the
// scenario's: written, duplicate, skipped by reason, a token expiry queued)
// and the token callbacks; Ready follows the site's database.
func TestMetricsCountBatchesAndCallbacks(t *testing.T) {
	e := newEnv(t, SiteGazelle, 3, 3, map[int64]bool{3: true}, map[int64]bool{2: true})
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("a second write-back's metrics on the same registry: no error")
	}
	ctx := context.Background()
	if err := m.Ready(ctx); !errors.Is(err, errNoSiteDB) {
		t.Errorf("ready before the site's database is open: %v", err)
	}
	e.w.Metrics = m
	first, second := scenario(time.Now().UTC().Add(-time.Hour).Truncate(time.Second))
	b1 := batch(-1, first...)
	store(t, e.w, b1)
	store(t, e.w, batch(b1.Next, second...))

	st := e.w.Stats()
	got := counters(t, reg)
	for name, want := range map[string]float64{
		"ratioguard_writeback_announces_applied_total":             float64(st.Applied),
		"ratioguard_writeback_duplicates_total":                    1,
		"ratioguard_writeback_rows_written_total":                  float64(st.Rows),
		"ratioguard_writeback_token_expiries_queued_total":         1,
		"ratioguard_writeback_skipped_total/" + skipUnknownMember:  1,
		"ratioguard_writeback_skipped_total/" + skipUnknownTorrent: 1,
	} {
		if got[name] != want || want == 0 {
			t.Errorf("%s: %v, want %v", name, got[name], want)
		}
	}
	if st.Expiries != 1 {
		t.Errorf("stats: %d expiries queued, want 1", st.Expiries)
	}

	// The callback: refused once, then taken.
	status := http.StatusInternalServerError
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer site.Close()
	exp := &Expirer{DB: e.db, Site: site.URL, Key: "k"}
	m.callback(exp.Flush(ctx))
	status = http.StatusOK
	m.callback(exp.Flush(ctx))
	got = counters(t, reg)
	if f, s := got["ratioguard_writeback_token_callbacks_failed_total"], got["ratioguard_writeback_token_expiries_sent_total"]; f != 1 || s != 1 {
		t.Errorf("callbacks failed %v, expiries sent %v; want 1, 1", f, s)
	}

	m.siteDB(e.db, e.w.Name())
	if err := m.Ready(ctx); err == nil || !strings.Contains(err.Error(), "not started") {
		t.Errorf("ready before its consumer started: %v", err)
	}
	m.Monitor.Waiting(e.w.Name(), "") // what the consumer records when it starts
	if err := m.Ready(ctx); err != nil {
		t.Errorf("ready with the site's database open: %v", err)
	}
	db, err := OpenSiteDB(e.site.DSN)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	m.siteDB(db, e.w.Name())
	m.Monitor.Waiting(e.w.Name(), "")
	if err := m.Ready(ctx); err == nil {
		t.Error("ready while the site's database does not answer")
	}
}

// counters are reg's counters by name, and name/label value (one label).
func counters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			out[key] = m.GetCounter().GetValue()
		}
	}
	return out
}
