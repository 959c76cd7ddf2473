package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The Grafana dashboard of deploy/ charts metrics that exist: every
// ratioguard_* name in its queries is registered somewhere in the code, and
// every metric the ingest, rollup, detector, enforcement and write-back stages register
// is charted. Panels fit Grafana's 24-column grid with unique ids.
func TestGrafanaDashboardMatchesTheMetrics(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct{ X, Y, W, H int }
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	metricName := regexp.MustCompile(`ratioguard_[a-z_]+`)
	charted := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q overflows the grid: %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") {
				t.Errorf("panel %q: unbalanced query %s", p.Title, tg.Expr)
			}
			for _, m := range metricName.FindAllString(tg.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					m = strings.TrimSuffix(m, suffix)
				}
				charted[m] = true
			}
		}
	}
	// The names the code registers: string literals of Go files.
	registered := map[string]bool{}
	literal := regexp.MustCompile(`"(ratioguard_[a-z_]+)"`)
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == ".git" || e.Name() == ".stack") {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			registered[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for m := range charted {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, m := range names {
		if !registered[m] {
			t.Errorf("the dashboard charts %s, which no stage registers", m)
		}
	}
	for m := range registered {
		for _, stage := range []string{"ratioguard_ingest_", "ratioguard_rollup_", "ratioguard_detect_", "ratioguard_enforce_", "ratioguard_writeback_"} {
			if strings.HasPrefix(m, stage) && !charted[m] {
				t.Errorf("%s is registered but not charted", m)
			}
		}
	}
}
