package quality

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/sim/eval"
)

func target(t *testing.T, name string) Target {
	t.Helper()
	for _, tg := range Targets {
		if tg.Detector == name {
			return tg
		}
	}
	t.Fatalf("no target %s", name)
	return Target{}
}

func TestFiguresAndBar(t *testing.T) {
	r := eval.Report{Run: "r", Members: 100, Cheaters: 20, Detectors: []eval.Score{
		{Detector: "multi_ip", Flagged: 12, FalsePositives: 1, ByKind: map[string]eval.Count{
			"shared_account": {Total: 10, Flagged: 9}, "leaked_passkey": {Total: 5, Flagged: 1}, "naive_faker": {Total: 5, Flagged: 1}}},
		{Detector: "any", Flagged: 12, ByKind: map[string]eval.Count{"sold_account": {Total: 4}}},
	}}
	mip, sell := target(t, "multi_ip"), target(t, "account_selling")
	f := mip.Figures(r)
	if f.Caught != 9 || f.Total != 10 || f.Honest != 1 || f.Recall != 0.9 {
		t.Fatalf("multi_ip figures = %+v", f)
	}
	if want := 10.0 / 12; f.KindPrecision != want { // 9 shared + 1 leaked (related) of 12
		t.Errorf("kind precision = %v, want %v", f.KindPrecision, want)
	}
	if f.Pass() { // precision 11/12 < 0.95
		t.Error("multi_ip passes with precision 0.92")
	}
	// A detector that flagged nobody still has its kinds' totals.
	if g := sell.Figures(r); g.Total != 4 || g.Recall != 0 || g.Pass() {
		t.Errorf("account_selling figures = %+v", g)
	}
	var b strings.Builder
	if err := Markdown(&b, []Population{{Spec: "specs/x.yaml", Report: r}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| multi_ip | shared_account (leaked_passkey) | x | full | 12 | 1 | 0.92 | 0.83 | shared_account 9/10 | 0 | **not met** |") {
		t.Errorf("table row missing:\n%s", b.String())
	}
}

// The bar is per kind: faked_upload at 1.00 overall precision misses it when
// one of its kinds (inflater) stays under 0.90, and kinds a population has
// no member of do not count.
func TestBarPerKind(t *testing.T) {
	fu := target(t, "faked_upload")
	r := eval.Report{Detectors: []eval.Score{{Detector: "faked_upload", Flagged: 58, ByKind: map[string]eval.Count{
		"naive_faker": {Total: 30, Flagged: 30}, "careful_faker": {Total: 20, Flagged: 20}, "inflater": {Total: 10, Flagged: 8}}}}}
	f := fu.Figures(r)
	if f.Recall != 58.0/60 || len(f.ByKind) != 3 || f.Pass() {
		t.Fatalf("figures %+v: pass %v with inflater 8/10", f, f.Pass())
	}
	r.Detectors[0].ByKind["inflater"] = eval.Count{Total: 10, Flagged: 9}
	if f = fu.Figures(r); !f.Pass() {
		t.Fatalf("figures %+v: not passing at 0.90", f)
	}
	gl := target(t, "ghost_leecher")
	r = eval.Report{Detectors: []eval.Score{{Detector: "ghost_leecher", Flagged: 8, ByKind: map[string]eval.Count{"ghost_leecher": {Total: 10, Flagged: 8}}}}}
	if f = gl.Figures(r); !f.Pass() {
		t.Fatalf("ghost_leecher at recall 0.80 does not pass: %+v", f)
	}
	if f = target(t, "cloud_leech").Figures(r); f.Covered() {
		t.Fatalf("cloud_leech covered without leech services: %+v", f)
	}
}

// Load reads the facts file: generator, name, held-out mark and the
// incremental evaluation; Markdown gives each generator its section, the
// queue figures and both passes.
func TestPopgenSectionsAndQueue(t *testing.T) {
	dir := t.TempDir()
	rep := func(run string, honest int, p100 float64) eval.Report {
		return eval.Report{Run: run, Members: 1500, Cheaters: 300, Honest: 1200, HonestFlagged: honest, HonestShare: float64(honest) / 1200,
			Queue: eval.Queue{Open: 150, Right: 140, PrecisionAt: []eval.PrecisionAt{{K: 25, Entries: 25, Right: 25, Precision: 1}, {K: 100, Entries: 100, Right: int(p100 * 100), Precision: p100}}},
			Detectors: []eval.Score{
				{Detector: "faked_upload", Flagged: 100, FalsePositives: honest, ByKind: map[string]eval.Count{"inflater": {Total: 40, Flagged: 38}, "naive_faker": {Total: 30, Flagged: 30}}},
				{Detector: "any", Flagged: 100, FalsePositives: honest, ByKind: map[string]eval.Count{"inflater": {Total: 40}, "naive_faker": {Total: 30}}},
			}}
	}
	write := func(name string, v any) string {
		path := filepath.Join(dir, name)
		b, _ := json.Marshal(v)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	full := write("full.json", rep("pg1", 3, 0.98))
	incr := write("incr.json", rep("pg1", 9, 0.91))
	facts := filepath.Join(dir, "facts")
	if err := os.WriteFile(facts, []byte("generator=popgen\nname=pg7\nspec=popgen -seed 7 -mix sold=0.1,nat=0.2\nheldout=1\nevents=2840000\nincremental_eval="+incr+"\nincremental_step=1h0m0s\nincremental_passes=504\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	simEval := write("sim.json", rep("sim11", 0, 1))
	pops, err := Load([]string{"specs/qual-a.yaml=" + simEval, "pg7=" + full + "=" + facts})
	if err != nil {
		t.Fatal(err)
	}
	if p := pops[1]; p.Generator() != "popgen" || p.Name() != "pg7" || !p.HeldOut() || p.Incremental == nil || p.Incremental.HonestFlagged != 9 {
		t.Fatalf("popgen population %+v", p)
	}
	if p := pops[0]; p.Generator() != "sim" || p.Name() != "qual-a" || p.HeldOut() || p.Incremental != nil {
		t.Fatalf("sim population %+v", p)
	}
	var b strings.Builder
	if err := Markdown(&b, pops); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## Quality bar on the project's simulator",
		"## Quality bar on popgen",
		"| pg7 | **held out** | `popgen -seed 7 -mix sold=0.1,nat=0.2` | 1500 | 300 | 2840000 |",
		"504 every 1h0m0s",
		"| pg7 (held out) | full | 0.97 / 0.95 ✓ | — | — | — | — | — | 3 = 0.25 % ✓ | 0.98 (98/100) ✓ |",
		"| pg7 (held out) | incremental | 0.91 / 0.95 ✗ | — | — | — | — | — | 9 = 0.75 % ✗ | 0.91 (91/100) ✗ |",
		"| faked_upload | naive_faker, careful_faker, colluding_pair, inflater | pg7 | incremental | 100 | 9 |",
		"### popgen — pg7 (run pg1, incremental pass)",
		"### sim — qual-a (run sim11, full pass)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Index(md, "Quality bar on popgen") < strings.Index(md, "Reading the figures") {
		t.Error("sim's limits are not in the sim section")
	}
	if t.Failed() {
		t.Log(md)
	}
}
