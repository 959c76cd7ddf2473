package eval

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/sim/labels"
)

func TestEvaluate(t *testing.T) {
	set := labels.Set{Run: "r", Members: 10, Labels: []labels.Label{
		{UserID: 1, Role: labels.Cheater, Kind: "naive_faker"},
		{UserID: 2, Role: labels.Cheater, Kind: "naive_faker"},
		{UserID: 3, Role: labels.Cheater, Kind: "ghost_leecher"},
		{UserID: 4, Role: labels.Lookalike, Kind: "seedbox"},
		{UserID: 5, Role: labels.Lookalike, Kind: "cgnat"},
		{UserID: 5, Role: labels.Lookalike, Kind: "dual_stack"},
	}}
	flags := []Flag{
		{Detector: "ratio", UserID: 1, Status: "open"},
		{Detector: "ratio", UserID: 4, Status: "open"},
		{Detector: "ratio", UserID: 4, Status: "open"}, // duplicate report: one member
		{Detector: "swarm", UserID: 3, Status: "confirmed"},
		{Detector: "swarm", UserID: 5, Status: "dismissed"},
	}
	r := Evaluate(set, flags, Options{})
	if r.Cheaters != 3 || r.Honest != 7 || len(r.Detectors) != 3 {
		t.Fatalf("report header %+v", r)
	}
	ratio := r.Detectors[0]
	if ratio.Detector != "ratio" || ratio.Flagged != 2 || ratio.TruePositives != 1 || ratio.Precision != 0.5 {
		t.Fatalf("ratio score %+v", ratio)
	}
	if c := ratio.ByKind["naive_faker"]; c.Flagged != 1 || c.Total != 2 || c.Rate != 0.5 {
		t.Fatalf("naive_faker recall %+v", c)
	}
	if c := ratio.Lookalikes["seedbox"]; c.Flagged != 1 || c.Total != 1 {
		t.Fatalf("seedbox look-alikes %+v", c)
	}
	anyS := r.Detectors[2]
	if anyS.Detector != "any" || anyS.TruePositives != 2 || anyS.FalsePositives != 2 {
		t.Fatalf("any score %+v", anyS)
	}
	if got := Evaluate(set, flags, Options{ExcludeDismissed: true}).Detectors[1]; got.FalsePositives != 0 {
		t.Fatalf("dismissed report still counted: %+v", got)
	}
	var buf bytes.Buffer
	if err := r.Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ratio | 2 | 1 | 1 | 0.50 | 0.33 | 1 |", "| any |", "ghost_leecher", "cgnat"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, buf.String())
		}
	}
}
