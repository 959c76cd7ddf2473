package quality

import (
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/sim/eval"
)

func TestFiguresAndBar(t *testing.T) {
	r := eval.Report{Run: "r", Members: 100, Cheaters: 20, Detectors: []eval.Score{
		{Detector: "multi_ip", Flagged: 12, FalsePositives: 1, ByKind: map[string]eval.Count{
			"shared_account": {Total: 10, Flagged: 9}, "leaked_passkey": {Total: 5, Flagged: 1}, "naive_faker": {Total: 5, Flagged: 1}}},
		{Detector: "any", Flagged: 12, ByKind: map[string]eval.Count{"sold_account": {Total: 4}}},
	}}
	var mip, sell Target
	for _, tg := range Targets {
		switch tg.Detector {
		case "multi_ip":
			mip = tg
		case "account_selling":
			sell = tg
		}
	}
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
	if !strings.Contains(b.String(), "| multi_ip | shared_account (leaked_passkey) | x | 12 | 1 |") {
		t.Errorf("table row missing:\n%s", b.String())
	}
}
