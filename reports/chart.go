package reports

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"
)

// Series is one time series of a report's evidence (detectors.Series on the wire).
type Series struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit,omitempty"`
	Points []Point `json:"points"`
	// From and Until, when set, are the window the x axis spans (the real
	// window, not only where points happen to be). Step, when set, is the
	// spacing of the samples: points further apart than 1.5 steps are not
	// joined, so a missing sample shows as a gap rather than a slope.
	From  time.Time     `json:"from,omitempty"`
	Until time.Time     `json:"until,omitempty"`
	Step  time.Duration `json:"step_ns,omitempty"`
}

// Point is one sample of a series.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Add appends a sample.
func (s *Series) Add(t time.Time, v float64) { s.Points = append(s.Points, Point{T: t, V: v}) }

const (
	chartW, chartH = 640, 160
	chartPad       = 36
)

// chartSVG draws a series as an inline SVG line chart: time on the x axis
// over the series' window (From..Until when set), values against zero with
// grid lines labelled at zero, half and the maximum, and a gap wherever a
// sample is missing (Step), so a reviewer sees the shape without any script.
func chartSVG(s Series) template.HTML {
	if len(s.Points) == 0 {
		return template.HTML(`<p class="muted">no samples in this window</p>`)
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
	if !s.From.IsZero() && s.From.Before(t0) {
		t0 = s.From
	}
	if !s.Until.IsZero() && s.Until.After(t1) {
		t1 = s.Until
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
	pts := make([]Point, len(s.Points))
	copy(pts, s.Points)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].T.Before(pts[j].T) })
	var lines, dots, seg strings.Builder
	flush := func() {
		if seg.Len() > 0 {
			fmt.Fprintf(&lines, `<polyline fill="none" stroke="#c0392b" stroke-width="1.5" points="%s"/>`, strings.TrimSpace(seg.String()))
			seg.Reset()
		}
	}
	for i, p := range pts {
		if i > 0 && s.Step > 0 && p.T.Sub(pts[i-1].T) > s.Step*3/2 {
			flush()
		}
		fmt.Fprintf(&seg, "%.1f,%.1f ", x(p.T), y(p.V))
		fmt.Fprintf(&dots, `<circle cx="%.1f" cy="%.1f" r="2.5"/>`, x(p.T), y(p.V))
	}
	flush()
	var grid strings.Builder
	labels := map[string]bool{}
	for _, v := range []float64{lo, hi, (lo + hi) / 2} {
		if label := humanNumber(v, s.Unit); labels[label] {
			continue // a half step that prints like an end (0.5 B): no second label
		} else {
			labels[label] = true
		}
		fmt.Fprintf(&grid, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e0e0e0"/><text x="2" y="%.0f" class="axis">%s</text>`,
			chartPad, chartW-chartPad, y(v), y(v), y(v)+4, template.HTMLEscapeString(humanNumber(v, s.Unit)))
	}
	esc := template.HTMLEscapeString
	layout := "01-02 15:04"
	if last.Sub(first) >= 72*time.Hour {
		layout = "2006-01-02"
	}
	return template.HTML(fmt.Sprintf(`<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">
%s%s<g fill="#c0392b">%s</g>
<text x="%d" y="%d" class="axis">%s</text><text x="%d" y="%d" class="axis" text-anchor="end">%s UTC</text>
</svg>`, chartW, chartH, esc(s.Name), grid.String(), lines.String(), dots.String(),
		chartPad, chartH-2, first.UTC().Format(layout), chartW-chartPad, chartH-2, last.UTC().Format(layout)))
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
