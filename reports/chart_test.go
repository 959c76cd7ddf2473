package reports

import (
	"encoding/json"
	"strings"
	"testing"
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
