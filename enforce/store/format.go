package store

import (
	"fmt"
	"math"
)

// FormatBytes renders a byte count with binary units (1.50 GiB).
func FormatBytes(b float64) string {
	const unit = 1024
	neg := b < 0
	if neg {
		b = -b
	}
	s := fmt.Sprintf("%.0f B", b)
	for i, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v := b / math.Pow(unit, float64(i+1))
		if v < 1 {
			break
		}
		s = fmt.Sprintf("%.2f %s", v, u)
	}
	if neg {
		s = "-" + s
	}
	return s
}

// FormatRatio renders a ratio, ∞ when nothing was downloaded.
func FormatRatio(r float64) string {
	if math.IsInf(r, 1) {
		return "inf"
	}
	return fmt.Sprintf("%.3f", r)
}
