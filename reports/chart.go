package reports

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Series is one time series of a report's evidence (detectors.Series on the wire).
type Series struct {
	Name   string `json:"name"`
	Unit   string `json:"unit,omitempty"`
	Points []struct {
		T time.Time `json:"t"`
		V float64   `json:"v"`
	} `json:"points"`
}

const (
	chartW, chartH = 640, 160
	chartPad       = 36
)

// chartSVG draws a series as an inline SVG line chart with its min and max
// labelled, so a reviewer sees the shape without any script.
func chartSVG(s Series) template.HTML {
	if len(s.Points) == 0 {
		return template.HTML(`<p class="muted">no points</p>`)
	}
	t0, t1 := s.Points[0].T, s.Points[0].T
	lo, hi := s.Points[0].V, s.Points[0].V
	for _, p := range s.Points {
		if p.T.Before(t0) {
			t0 = p.T
		}
		if p.T.After(t1) {
			t1 = p.T
		}
		lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
	}
	lo = math.Min(lo, 0) // rates and counts read against zero
	first, last := t0, t1
	span := t1.Sub(t0).Seconds()
	if span == 0 { // one sample: draw it in the middle
		span, t0 = 2, t0.Add(-time.Second)
	}
	if hi == lo {
		hi = lo + 1
	}
	x := func(t time.Time) float64 { return chartPad + (t.Sub(t0).Seconds()/span)*(chartW-2*chartPad) }
	y := func(v float64) float64 { return chartH - chartPad/2 - (v-lo)/(hi-lo)*(chartH-chartPad) }
	var pts, dots strings.Builder
	for _, p := range s.Points {
		fmt.Fprintf(&pts, "%.1f,%.1f ", x(p.T), y(p.V))
		fmt.Fprintf(&dots, `<circle cx="%.1f" cy="%.1f" r="2.5"/>`, x(p.T), y(p.V))
	}
	esc := template.HTMLEscapeString
	return template.HTML(fmt.Sprintf(`<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">
<polyline fill="none" stroke="#c0392b" stroke-width="1.5" points="%s"/><g fill="#c0392b">%s</g>
<text x="2" y="%.0f" class="axis">%s</text><text x="2" y="%.0f" class="axis">%s</text>
<text x="%d" y="%d" class="axis">%s</text><text x="%d" y="%d" class="axis" text-anchor="end">%s</text>
</svg>`, chartW, chartH, esc(s.Name), strings.TrimSpace(pts.String()), dots.String(),
		y(hi)+4, esc(humanNumber(hi, s.Unit)), y(lo)+4, esc(humanNumber(lo, s.Unit)),
		chartPad, chartH-2, first.UTC().Format("01-02 15:04"), chartW-chartPad, chartH-2, last.UTC().Format("01-02 15:04")))
}

// humanNumber prints bytes with binary prefixes and anything else plainly.
func humanNumber(v float64, unit string) string {
	if unit == "bytes" || unit == "B" || unit == "bytes/s" || unit == "B/s" {
		suffix := strings.TrimPrefix(strings.TrimPrefix(unit, "bytes"), "B")
		abs := math.Abs(v)
		for _, p := range []struct {
			n    float64
			name string
		}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
			if abs >= p.n {
				return fmt.Sprintf("%.2f %s%s", v/p.n, p.name, suffix)
			}
		}
		return fmt.Sprintf("%.0f B%s", v, suffix)
	}
	s := fmt.Sprintf("%.4g", v)
	if unit != "" {
		s += " " + unit
	}
	return s
}
