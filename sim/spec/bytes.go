package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Bytes is a byte count written as 1.5GiB, 256KiB, 700MB or a plain number.
type Bytes int64

// Units.
const (
	KiB Bytes = 1 << 10
	MiB Bytes = 1 << 20
	GiB Bytes = 1 << 30
	TiB Bytes = 1 << 40
)

var units = []struct {
	suffix string
	mult   float64
}{
	{"TiB", float64(TiB)}, {"GiB", float64(GiB)}, {"MiB", float64(MiB)}, {"KiB", float64(KiB)},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3}, {"B", 1},
}

// ParseBytes parses a byte count with an optional unit.
func ParseBytes(s string) (Bytes, error) {
	s = strings.TrimSpace(s)
	num, mult := s, 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a byte count (e.g. 256KiB, 1.5GiB)", s)
	}
	return Bytes(f * mult), nil
}

// UnmarshalYAML accepts a number or a string with a unit.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseBytes(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// String formats with the largest binary unit that divides evenly enough.
func (b Bytes) String() string {
	for _, u := range units[:4] {
		if float64(b) >= u.mult {
			return strconv.FormatFloat(float64(b)/u.mult, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

func sortStrings(s []string) { sort.Strings(s) }

func joinLines(s []string) string { return "\n  - " + strings.Join(s, "\n  - ") }
