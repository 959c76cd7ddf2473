package detectors

import (
	"math"
	"sort"
)

// median of xs (0 for none); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// robustZ returns (x - median) / (1.4826 * MAD) for each x, with the MAD
// floored at floor so identical populations do not divide by zero.
func robustZ(xs []float64, floor float64) []float64 { return robustZIn(xs, xs, floor) }

// robustZIn is robustZ of xs with the median and MAD of pop.
func robustZIn(xs, pop []float64, floor float64) []float64 {
	m := median(pop)
	dev := make([]float64, len(pop))
	for i, x := range pop {
		dev[i] = math.Abs(x - m)
	}
	mad := math.Max(1.4826*median(dev), floor)
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = (x - m) / mad
	}
	return out
}

// strength maps how far value is past threshold to 0..1: 0 below, 0.6 at
// the threshold, 0.9 at twice it, 1 from about 2.4 times.
func strength(value, threshold float64) float64 {
	if threshold <= 0 || value < threshold {
		return 0
	}
	return math.Min(1, 0.6+0.3*math.Log2(value/threshold))
}

// strengthBelow is strength for "smaller is worse" (value under threshold).
func strengthBelow(value, threshold float64) float64 {
	if value > threshold {
		return 0
	}
	if value <= 0 {
		return 1
	}
	return strength(threshold, value)
}

// combine is a noisy-OR of weighted signals: 1 - Π(1 - w·s).
func combine(signals []Signal) float64 {
	p := 1.0
	for _, s := range signals {
		if s.Fired {
			p *= 1 - clamp01(s.Weight*s.Strength)
		}
	}
	return 1 - p
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// signal builds a Signal for "value above threshold is suspicious".
func signal(name string, value, threshold, weight float64, unit, note string) Signal {
	st := strength(value, threshold)
	return Signal{Name: name, Value: value, Threshold: threshold, Unit: unit, Fired: st > 0,
		Weight: weight, Strength: st, Note: note}
}

// combineGated scores a member on physical evidence first: the noisy-OR P
// of the fired signals physical accepts; the others (stylistic: a rare
// fingerprint, regular rates, upload with no leecher seen) only raise a
// score that physical evidence already gives, by S·P of what is left, so on
// their own they never report anyone.
func combineGated(signals []Signal, physical func(Signal) bool) float64 {
	p, s := 1.0, 1.0
	for _, x := range signals {
		if !x.Fired {
			continue
		}
		if physical(x) {
			p *= 1 - clamp01(x.Weight*x.Strength)
		} else {
			s *= 1 - clamp01(x.Weight*x.Strength)
		}
	}
	P, S := 1-p, 1-s
	if P == 0 {
		return 0
	}
	return P + (1-P)*S*P
}
