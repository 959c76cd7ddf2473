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

// The queue holds open reports only, one entry per report, by score
// descending (ties: older report first); precision at k counts entries
// about cheaters among the first k, or among all of a shorter queue.
func TestQueuePrecisionAtK(t *testing.T) {
	set := labels.Set{Run: "r", Members: 400}
	var flags []Flag
	id := int64(0)
	add := func(det string, user uint64, status string, score float64) {
		id++
		flags = append(flags, Flag{ReportID: id, Detector: det, UserID: user, Status: status, Score: score})
	}
	// 60 cheaters, each reported by "a" at 0.9; cheaters 1–10 also by "b" at 0.95.
	for u := uint64(1); u <= 60; u++ {
		set.Labels = append(set.Labels, labels.Label{UserID: u, Role: labels.Cheater, Kind: "inflater"})
		add("a", u, "open", 0.9)
		if u <= 10 {
			add("b", u, "open", 0.95)
		}
	}
	// 40 honest members at 0.5–0.89, and one at the top score (the queue's first entry).
	for u := uint64(101); u <= 140; u++ {
		add("a", u, "open", 0.5+float64(u-101)/100)
	}
	add("c", 200, "open", 0.99)
	set.Labels = append(set.Labels, labels.Label{UserID: 200, Role: labels.Lookalike, Kind: "fresh_rush"})
	// Reviewed reports are not in the queue.
	add("a", 300, "dismissed", 1)
	add("a", 1, "confirmed", 1)
	r := Evaluate(set, flags, Options{})
	q := r.Queue
	if q.Open != 111 || q.Right != 70 {
		t.Fatalf("queue: %d open, %d right; want 111, 70", q.Open, q.Right)
	}
	want := map[int]PrecisionAt{
		25:  {K: 25, Entries: 25, Right: 24, Precision: 24.0 / 25},
		50:  {K: 50, Entries: 50, Right: 49, Precision: 49.0 / 50},
		100: {K: 100, Entries: 100, Right: 70, Precision: 0.70},
		200: {K: 200, Entries: 111, Right: 70, Precision: 70.0 / 111},
	}
	for k, w := range want {
		got, ok := q.At(k)
		if !ok || got != w {
			t.Errorf("precision@%d = %+v, want %+v", k, got, w)
		}
	}
	// Honest members reported by any detector: 101–140, 200 and 300 (dismissed still counts unless excluded).
	if r.HonestFlagged != 42 || r.Honest != 340 || r.HonestShare != 42.0/340 {
		t.Errorf("honest flagged %d of %d (%.4f), want 42 of 340", r.HonestFlagged, r.Honest, r.HonestShare)
	}
	if got := Evaluate(set, flags, Options{ExcludeDismissed: true}); got.HonestFlagged != 41 || got.Queue.Open != 111 {
		t.Errorf("excluding dismissed: honest %d, queue %d; want 41, 111", got.HonestFlagged, got.Queue.Open)
	}
	var buf bytes.Buffer
	if err := r.Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{"| precision@25 | precision@50 | precision@100 | precision@200 |",
		"| 0.96 (24/25) | 0.98 (49/50) | 0.70 (70/100) | 0.63 (70/111 of 200) |",
		"by any detector: 42 = 12.35 %", "| inflater |", "| fresh_rush |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// Kinds without members in the run are left out of the tables.
	if strings.Contains(md, "naive_faker") || strings.Contains(md, "seedbox") {
		t.Errorf("markdown shows kinds the run has no member of:\n%s", md)
	}
	if got := Evaluate(labels.Set{Run: "empty", Members: 3}, nil, Options{}).Queue; got.Open != 0 || got.PrecisionAt[0].Precision != 1 {
		t.Errorf("empty queue %+v", got)
	}
}

// A kind outside the vocabulary (a newer generator's) is scored and shown.
func TestUnknownKindShows(t *testing.T) {
	set := labels.Set{Run: "r", Members: 3, Labels: []labels.Label{
		{UserID: 1, Role: labels.Cheater, Kind: "ratio_ghost"},
		{UserID: 2, Role: labels.Lookalike, Kind: "satellite"},
	}}
	r := Evaluate(set, []Flag{{ReportID: 1, Detector: "x", UserID: 1, Status: "open", Score: 0.7}}, Options{})
	if c := r.Detectors[0].ByKind["ratio_ghost"]; c.Flagged != 1 || c.Total != 1 {
		t.Fatalf("unknown cheat kind %+v", c)
	}
	var buf bytes.Buffer
	if err := r.Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| ratio_ghost |") || !strings.Contains(buf.String(), "| satellite |") {
		t.Fatalf("unknown kinds missing:\n%s", buf.String())
	}
}
