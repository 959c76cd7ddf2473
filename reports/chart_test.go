package reports

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestChartSVGScalesPointsIntoTheBox(t *testing.T) {
	var s Series
	err := json.Unmarshal([]byte(`{"name":"upload <rate>","unit":"bytes/s","points":[
		{"t":"2026-11-01T00:00:00Z","v":0},{"t":"2026-11-01T01:00:00Z","v":1048576},{"t":"2026-11-01T02:00:00Z","v":524288}]}`), &s)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(chartSVG(s))
	for _, want := range []string{`points="36.0,142.0 320.0,18.0 604.0,80.0"`, "1.00 MiB/s", "0 B/s", `aria-label="upload &lt;rate&gt;"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q:\n%s", want, svg)
		}
	}
}

func TestHumanNumber(t *testing.T) {
	cases := map[string]string{
		humanNumber(3*(1<<30), "bytes"): "3.00 GiB",
		humanNumber(512, "B"):           "512 B",
		humanNumber(4.5, "networks"):    "4.5 networks",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q want %q", got, want)
		}
	}
}

func TestChartSVGShowsASingleSampleAgainstZero(t *testing.T) {
	var s Series
	if err := json.Unmarshal([]byte(`{"name":"networks","unit":"networks","points":[{"t":"2026-11-01T00:00:00Z","v":2}]}`), &s); err != nil {
		t.Fatal(err)
	}
	svg := string(chartSVG(s))
	if !strings.Contains(svg, `<circle cx="320.0" cy="18.0" r="2.5"/>`) || !strings.Contains(svg, ">0 networks<") || strings.Contains(svg, "10-31") {
		t.Fatalf("single sample not drawn mid-chart at full height against zero:\n%s", svg)
	}
}

// A daily series over a window: the x axis spans the whole window (not only
// the days with samples), and a missing day breaks the line instead of
// drawing a slope across it.
func TestChartSVGSpansTheWindowAndShowsGaps(t *testing.T) {
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s := Series{Name: "uploaded per day", Unit: "bytes", From: from, Until: from.AddDate(0, 0, 10), Step: 24 * time.Hour}
	for _, d := range []int{2, 3, 6, 7} { // days 4 and 5 missing
		s.Add(from.AddDate(0, 0, d).Add(12*time.Hour), float64(d)*(1<<30))
	}
	svg := string(chartSVG(s))
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Errorf("%d lines, want 2 (the gap splits them):\n%s", n, svg)
	}
	for _, want := range []string{">2026-11-01<", ">2026-11-11 UTC<", ">7.00 GiB<", ">3.50 GiB<", ">0 B<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q:\n%s", want, svg)
		}
	}
	// Day 2 at noon is 2.5 days into a 10-day window.
	if x := 36 + 2.5/10*(640-72); !strings.Contains(svg, fmt.Sprintf(`cx="%.1f"`, x)) {
		t.Errorf("day 2 not at x=%.1f:\n%s", x, svg)
	}
}
